import { Headers as UndiciHeaders, Request as UndiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';

// biome-ignore lint/suspicious/noExplicitAny: log records are arbitrary JSON, read field by field
type LogRecord = Record<string, any>;

const SECRET = 'gwt_0123456789abcdefghijklmnop';
function capture() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    secrets: [SECRET],
    destination: { write: (line: string) => lines.push(...line.split('\n').filter(Boolean)) },
  });
  return {
    logger,
    records: () => lines.map((l) => JSON.parse(l) as LogRecord),
    text: () => lines.join('\n'),
  };
}

describe('logging the same on Node 20, 22 and 24', () => {
  it('keeps type, message, stack and cause of an error, scrubbed', () => {
    class Failure extends Error {
      override name = 'Failure';
    }
    const { logger, records, text } = capture();
    logger.error(new Failure(`outer ${SECRET}`, { cause: new TypeError(`inner ${SECRET}`) }));
    const err = records()[0]!.err;
    expect(err.type).toBe('Failure');
    expect(err.message).toBe('outer [redacted]: inner [redacted]');
    expect(err.stack).toMatch(/^Failure: outer \[redacted\]\n {4}at /);
    expect(err.stack).toMatch(/\ncaused by: TypeError: inner \[redacted\]\n {4}at /);
    expect(text()).not.toContain(SECRET);
  });

  it('keeps a message from a class getter and a stack set by hand', () => {
    class Lazy extends Error {
      override get message() {
        return `lazy ${SECRET}`;
      }
    }
    const manual = new Error('m');
    manual.stack = `custom stack ${SECRET}`;
    const { logger, records, text } = capture();
    logger.error(new Lazy());
    logger.error({ err: manual });
    expect(records()[0]!.err.message).toBe('lazy [redacted]');
    expect(records()[1]!.err.stack).toBe('custom stack [redacted]');
    expect(text()).not.toContain(SECRET);
  });

  it('never throws for platform objects, wherever they are in the call', () => {
    const { logger, records, text } = capture();
    const request = new Request('https://example.test/', {
      headers: { authorization: `Bearer ${SECRET}`, accept: 'x' },
    });
    const values: Record<string, unknown> = {
      request,
      response: new Response('body'),
      headers: new Headers({ authorization: `Bearer ${SECRET}`, accept: 'text/plain' }),
      undiciRequest: new UndiciRequest('https://example.test/'),
      undiciHeaders: new UndiciHeaders({ cookie: SECRET }),
      url: new URL(`https://example.test/?t=${SECRET}`),
      signal: AbortSignal.abort(),
      controller: new AbortController(),
      map: new Map([[1, 2]]),
      blob: new Blob(['x']),
      buffer: Buffer.from('abc'),
      date: new Date(0),
    };
    for (const [key, value] of Object.entries(values)) {
      expect(() => logger.info({ [key]: value }, key)).not.toThrow();
      expect(() => logger.info({ deep: { headers: value, x: { headers: value } } }, key)).not.toThrow();
      expect(() => logger.info(value as object, key)).not.toThrow();
      expect(() => logger.info('%o %j', value as object, value as object)).not.toThrow();
    }
    logger.info(values, 'all at once');
    expect(text()).not.toContain(SECRET);
    const all = records().at(-1)!;
    expect(all.headers).toEqual({ authorization: '[redacted]', accept: 'text/plain' });
    expect(all.undiciHeaders).toEqual({ cookie: '[redacted]' });
    expect(all.url).toBe('https://example.test/?t=[redacted]');
    expect(all.date).toBe('1970-01-01T00:00:00.000Z');
  });
});
