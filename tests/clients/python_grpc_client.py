"""A gRPC client generated from proto/ with grpcio-tools, driven by
tests/api/conformance.rs. Prints one JSON object with what it observed."""
import json
import sys

import grpc

from goodmem.v1 import system_service_pb2, system_service_pb2_grpc
from goodmem.v1 import user_service_pb2, user_service_pb2_grpc


def main(address: str) -> None:
    channel = grpc.insecure_channel(address)
    users = user_service_pb2_grpc.UserServiceStub(channel)
    system = system_service_pb2_grpc.SystemServiceStub(channel)

    initialized = users.InitializeSystem(user_service_pb2.InitializeSystemRequest())
    key = initialized.root_api_key
    by_id = users.GetUser(
        user_service_pb2.GetUserRequest(user_id=initialized.user_id),
        metadata=[("authorization", f"Bearer {key}")],
    )
    by_api_key = users.GetUser(
        user_service_pb2.GetUserRequest(email="ROOT@localhost"),
        metadata=[("x-api-key", key)],
    )
    try:
        users.GetUser(user_service_pb2.GetUserRequest(user_id=b"\x01\x02"), metadata=[("x-api-key", key)])
        invalid_code = "OK"
    except grpc.RpcError as error:
        invalid_code = error.code().name
    try:
        users.GetUser(user_service_pb2.GetUserRequest())
        unauthenticated_code = "OK"
    except grpc.RpcError as error:
        unauthenticated_code = error.code().name
    info = system.GetSystemInfo(system_service_pb2.GetSystemInfoRequest())

    print(json.dumps({
        "user_id_hex": initialized.user_id.hex(),
        "by_id_user_id_hex": by_id.user_id.hex(),
        "by_id_role": by_id.Role.Name(by_id.role),
        "by_api_key_username": by_api_key.username,
        "created_at_seconds": by_id.created_at.seconds,
        "invalid_code": invalid_code,
        "unauthenticated_code": unauthenticated_code,
        "initialized": info.initialized,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
