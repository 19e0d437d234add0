/**
 * The one framing every napshare TCP protocol uses: a JSON object per line, `\n`-terminated,
 * UTF-8. Helpers here turn a decoded line into a typed message or a BAD_REQUEST error.
 */
import { NapError } from './errors.ts';
import { hasInvalidUtf8 } from './utf8-text.ts';

export type JsonObject = Record<string, unknown>;

export function encodeLine(message: object): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Parses one line into an object that has a string `type`. Throws BAD_REQUEST otherwise, and for
 * a line whose bytes were not valid UTF-8 (LineSplitter keeps invalid bytes as lone surrogates).
 */
export function parseMessage(line: string): JsonObject & { type: string } {
  if (hasInvalidUtf8(line)) throw new NapError('BAD_REQUEST', 'The line is not valid UTF-8.');
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new NapError('BAD_REQUEST', 'The line is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NapError('BAD_REQUEST', 'The line is not a JSON object.');
  }
  const type = (value as JsonObject).type;
  if (typeof type !== 'string') throw new NapError('BAD_REQUEST', 'The message has no string "type" field.');
  return value as JsonObject & { type: string };
}

export function requireString(message: JsonObject, field: string): string {
  const value = message[field];
  if (typeof value !== 'string') throw badField(message, field, 'a string');
  return value;
}

export function optionalString(message: JsonObject, field: string): string | undefined {
  return message[field] === undefined ? undefined : requireString(message, field);
}

/** A non-negative safe integer (sizes and offsets: JSON numbers are exact up to 2^53). */
export function requireCount(message: JsonObject, field: string): number {
  const value = message[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badField(message, field, 'a non-negative integer');
  }
  return value;
}

export function optionalCount(message: JsonObject, field: string): number | undefined {
  return message[field] === undefined ? undefined : requireCount(message, field);
}

export function requireStringArray(message: JsonObject, field: string): string[] {
  const value = message[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw badField(message, field, 'an array of strings');
  }
  return value as string[];
}

export function badField(message: JsonObject, field: string, expected: string): NapError {
  return new NapError('BAD_REQUEST', `${String(message.type)}: field "${field}" must be ${expected}.`);
}
