"""The published GoodMem Python SDK (PyPI `goodmem`) against Roster's REST
face, driven by tests/api/conformance.rs. Prints what it observed as JSON;
any validation error of the SDK's pydantic models fails the run."""
import json
import sys

from goodmem import Goodmem


def main(base_url: str, api_key: str) -> None:
    client = Goodmem(base_url=base_url, api_key=api_key)
    me = client.users.me()
    by_id = client.users.get(id=me.user_id)
    by_email = client.users.get(email=me.email)
    print(json.dumps({
        "me": me.model_dump(),
        "by_id_user_id": by_id.user_id,
        "by_email_user_id": by_email.user_id,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
