//! `goodmem.v1.MemoService`.
use tonic::{Request, Response, Status};

use super::convert::{field_mask, timestamp};
use super::user_resources::visibility_message;
use super::{ApiContext, caller};
use crate::domain::memos::{
    Memo, MemoInput, MemoPage, create_comment, create_memo, delete_memo, get_memo, list_comments,
    list_memos, memo_name, update_memo,
};
use crate::proto::goodmem::v1 as pb;
use crate::proto::goodmem::v1::memo_service_server::MemoService;

/// The MemoService implementation.
#[derive(Clone, Debug)]
pub struct MemoServiceApi {
    context: ApiContext,
}

impl MemoServiceApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        Self { context }
    }
}

/// A memo as the API shows it.
pub fn memo_message(memo: Memo) -> pb::Memo {
    let name = memo.name();
    let Memo {
        id: _,
        creator,
        parent,
        content,
        visibility,
        pinned,
        facts,
        created_at,
        updated_at,
    } = memo;
    pb::Memo {
        name,
        creator: creator.resource_name(),
        content,
        visibility: visibility_message(visibility) as i32,
        pinned,
        create_time: Some(timestamp(created_at)),
        update_time: Some(timestamp(updated_at)),
        display_time: Some(timestamp(created_at)),
        property: Some(pb::MemoProperty {
            has_link: facts.has_link,
            has_task_list: facts.has_task_list,
            has_code: facts.has_code,
            has_incomplete_tasks: facts.has_incomplete_tasks,
        }),
        tags: facts.tags,
        parent: parent.map(memo_name).unwrap_or_default(),
    }
}

/// The settable fields of a request's memo; output-only ones are ignored.
fn memo_input(memo: Option<pb::Memo>) -> MemoInput {
    let pb::Memo {
        name,
        creator: _,
        content,
        visibility,
        pinned,
        create_time: _,
        update_time: _,
        display_time: _,
        tags: _,
        property: _,
        parent: _,
    } = memo.unwrap_or_default();
    MemoInput {
        name,
        content,
        visibility,
        pinned,
    }
}

fn page_messages(page: MemoPage) -> (Vec<pb::Memo>, String) {
    (
        page.memos.into_iter().map(memo_message).collect(),
        page.next_page_token,
    )
}

#[tonic::async_trait]
impl MemoService for MemoServiceApi {
    async fn create_memo(
        &self,
        mut request: Request<pb::CreateMemoRequest>,
    ) -> Result<Response<pb::Memo>, Status> {
        let caller = caller(&mut request)?;
        let pb::CreateMemoRequest { memo } = request.into_inner();
        let memo = create_memo(
            &self.context.store,
            &self.context.events,
            &caller,
            memo_input(memo),
        )
        .await?;
        Ok(Response::new(memo_message(memo)))
    }

    async fn get_memo(
        &self,
        mut request: Request<pb::GetMemoRequest>,
    ) -> Result<Response<pb::Memo>, Status> {
        let caller = caller(&mut request)?;
        let pb::GetMemoRequest { name } = request.into_inner();
        let memo = get_memo(&self.context.store, &caller, &name).await?;
        Ok(Response::new(memo_message(memo)))
    }

    async fn list_memos(
        &self,
        mut request: Request<pb::ListMemosRequest>,
    ) -> Result<Response<pb::ListMemosResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListMemosRequest {
            parent,
            page_size,
            page_token,
        } = request.into_inner();
        let page = list_memos(
            &self.context.store,
            &caller,
            &parent,
            page_size,
            &page_token,
        )
        .await?;
        let (memos, next_page_token) = page_messages(page);
        Ok(Response::new(pb::ListMemosResponse {
            memos,
            next_page_token,
        }))
    }

    async fn update_memo(
        &self,
        mut request: Request<pb::UpdateMemoRequest>,
    ) -> Result<Response<pb::Memo>, Status> {
        let caller = caller(&mut request)?;
        let pb::UpdateMemoRequest { memo, update_mask } = request.into_inner();
        let mask = field_mask(update_mask);
        let memo = update_memo(
            &self.context.store,
            &self.context.events,
            &caller,
            memo_input(memo),
            mask,
        )
        .await?;
        Ok(Response::new(memo_message(memo)))
    }

    async fn delete_memo(
        &self,
        mut request: Request<pb::DeleteMemoRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&mut request)?;
        let pb::DeleteMemoRequest { name } = request.into_inner();
        delete_memo(&self.context.store, &self.context.events, &caller, &name).await?;
        Ok(Response::new(()))
    }

    async fn create_memo_comment(
        &self,
        mut request: Request<pb::CreateMemoCommentRequest>,
    ) -> Result<Response<pb::Memo>, Status> {
        let caller = caller(&mut request)?;
        let pb::CreateMemoCommentRequest { name, comment } = request.into_inner();
        let content = memo_input(comment).content;
        let comment = create_comment(
            &self.context.store,
            &self.context.events,
            &caller,
            &name,
            content,
        )
        .await?;
        Ok(Response::new(memo_message(comment)))
    }

    async fn list_memo_comments(
        &self,
        mut request: Request<pb::ListMemoCommentsRequest>,
    ) -> Result<Response<pb::ListMemoCommentsResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListMemoCommentsRequest {
            name,
            page_size,
            page_token,
        } = request.into_inner();
        let page =
            list_comments(&self.context.store, &caller, &name, page_size, &page_token).await?;
        let (memos, next_page_token) = page_messages(page);
        Ok(Response::new(pb::ListMemoCommentsResponse {
            memos,
            next_page_token,
        }))
    }
}
