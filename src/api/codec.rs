//! The protobuf codec of our services: tonic's prost codec, except that a
//! request that does not parse is `INVALID_ARGUMENT` (the client sent bad
//! bytes) rather than tonic's `INTERNAL`, which would read as a server bug
//! and become an HTTP 500 wherever statuses are mapped to HTTP.
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Named by `build.rs` (`codec_path`) for every generated service.
#[derive(Debug)]
pub struct ProtobufCodec<T, U> {
    inner: ProstCodec<T, U>,
}

impl<T, U> Default for ProtobufCodec<T, U> {
    fn default() -> Self {
        Self {
            inner: ProstCodec::default(),
        }
    }
}

impl<T, U> Codec for ProtobufCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ClientErrorDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ClientErrorDecoder {
            inner: self.inner.decoder(),
        }
    }
}

/// See [`ProtobufCodec`].
#[derive(Debug)]
pub struct ClientErrorDecoder<U> {
    inner: ProstDecoder<U>,
}

impl<U: prost::Message + Default> Decoder for ClientErrorDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buffer: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.inner.decode(buffer).map_err(|status| {
            if status.code() == Code::Internal {
                Status::invalid_argument(format!(
                    "malformed protobuf message: {}",
                    status.message()
                ))
            } else {
                status
            }
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}
