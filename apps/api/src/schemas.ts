import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { Role } from './auth.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's role, set by the auth hook on /v1 routes. */
    role?: Role;
  }
  interface FastifyContextConfig {
    /** Role a route needs (routes under /v1 only); viewer when unset. */
    role?: Role;
  }
}

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. invalid_argument, unauthenticated, forbidden, not_found' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The request field at fault, e.g. query.limit or params.id' })),
    }),
  },
  { $id: 'Error' },
);

const errorRef = Type.Unsafe<unknown>({ $ref: 'Error#' });

/** Response schemas for a route: its success body plus the shared error body for 4xx and 5xx. */
export function responses<T extends TSchema>(ok: T, status = 200) {
  return { [status]: ok, '4xx': errorRef, '5xx': errorRef } as { 200: T; '4xx': typeof errorRef; '5xx': typeof errorRef };
}

export const Nullable = <T extends TSchema>(t: T, opts: { description?: string } = {}) => Type.Union([t, Type.Null()], opts);

export const Tags = Type.Record(Type.String(), Type.String());

/** Routes under /v1 are documented with the bearer scheme. */
export const bearerSecurity = [{ bearer: [] as string[] }];

/** A string enum as JSON Schema `enum` (one clear validation message listing the values). */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
