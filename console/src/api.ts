// The client: generated from ../proto (src/gen, by `buf generate`), over
// gRPC-Web on this page's own origin. The credential rides as
// `authorization: Bearer <token>` metadata and lives in sessionStorage, so it
// ends with the tab.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "./gen/goodmem/v1/auth_service_pb.js";
import { SystemService } from "./gen/goodmem/v1/system_service_pb.js";
import { UserService } from "./gen/goodmem/v1/user_service_pb.js";
import { BadRequestSchema } from "./gen/google/rpc/error_details_pb.js";

const TOKEN_KEY = "roster.token";
const TOKEN_KIND_KEY = "roster.tokenKind";

export type TokenKind = "session" | "key";

export const credential = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get kind(): TokenKind {
    return sessionStorage.getItem(TOKEN_KIND_KEY) === "session" ? "session" : "key";
  },
  set(token: string, kind: TokenKind): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(TOKEN_KIND_KEY, kind);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KIND_KEY);
  },
};

const bearer: Interceptor = (next) => async (request) => {
  const token = credential.token;
  if (token) request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};

const transport = createGrpcWebTransport({
  baseUrl: window.location.origin,
  interceptors: [bearer],
});

export const users = createClient(UserService, transport);
export const auth = createClient(AuthService, transport);
export const system = createClient(SystemService, transport);

export interface ApiProblem {
  code: Code;
  message: string;
  fields: { field: string; description: string }[];
}

/** What an error from the API says, in words, with its field violations. */
export function problemOf(error: unknown, conflictHint?: string): ApiProblem {
  const connectError = ConnectError.from(error);
  const fields = connectError
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) => badRequest.fieldViolations)
    .map((violation) => ({ field: violation.field, description: violation.description }));
  let message = connectError.rawMessage || Code[connectError.code];
  if (connectError.code === Code.Aborted && conflictHint) {
    message = `${conflictHint} (${message})`;
  } else if (connectError.code === Code.Unauthenticated) {
    message = `not signed in or credential no longer valid: ${message}`;
  } else if (connectError.code === Code.PermissionDenied) {
    message = `not allowed: ${message}`;
  } else if (connectError.code === Code.Unavailable) {
    message = `server unavailable, try again: ${message}`;
  }
  return { code: connectError.code, message, fields };
}

export { Code };
