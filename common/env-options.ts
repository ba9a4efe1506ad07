// Readers for options given as environment variables (the chart sets them). Each rejects a bad value
// with an error that names the variable, the value and what is wanted; empty means "use the default".
import { ERROR_CODES, OkgSqError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function badOption(name: string, value: string, want: string): never {
  throw new OkgSqError(ERROR_CODES.INVALID_OPTION, `${name}=${JSON.stringify(value)}: ${want}`);
}

export function envString(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

export function envInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) badOption(name, raw, `want an integer in ${min}..${max}`);
  const n = Number(raw);
  if (n < min || n > max) badOption(name, raw, `want an integer in ${min}..${max}`);
  return n;
}

export function envNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) badOption(name, raw, `want a number in ${min}..${max}`);
  return n;
}

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return badOption(name, raw, 'want true or false');
}

export function envLogLevel(env: Env, name: string): LogLevel {
  const level = envString(env, name, 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) badOption(name, level, `want one of ${LOG_LEVELS.join(', ')}`);
  return level as LogLevel;
}
