// The claims of a JWT read WITHOUT checking its signature. Only two uses are sound, and only these are
// made: refusing early what the TokenReview would refuse anyway (not a JWT, expired, another audience),
// so garbage never costs a TokenReview; and, once the TokenReview has accepted the very same token,
// reading its `exp` (the review does not return it), so the session can end when the token does.

export interface JwtClaims {
  /** `exp` in Unix ms; undefined when absent or not a number. */
  readonly expiresAtMs: number | undefined;
  /** `aud` as a list ([] when absent). */
  readonly audiences: readonly string[];
}

/** A JWT is three base64url parts; bound ServiceAccount tokens are ~1 KiB, so 16 KiB is generous. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The claims, or undefined when `token` is not a JWT with a JSON object as its payload. */
export function jwtClaims(token: string): JwtClaims | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => p.length > 0 && BASE64URL.test(p))) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const { exp, aud } = payload as { exp?: unknown; aud?: unknown };
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  return {
    expiresAtMs: typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined,
    audiences,
  };
}
