/**
 * The process's JSON logger (pino), which cannot print a secret, and the request scope every
 * line logged on a request's behalf is tagged with.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { YogaLogger } from 'graphql-yoga';
import { pino } from 'pino';
import { createScrubber, scrubJsonLine, scrubValue, secretPattern } from './scrub.ts';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout when absent. */
  destination?: NodeJS.WritableStream | pino.DestinationStream;
  /** Literal values that must never be printed: gateway tokens, configured API keys. */
  secrets?: readonly string[];
}

/**
 * A JSON logger that cannot print a secret. Two passes: every argument of every log call is
 * scrubbed before pino serializes it (so the err serializer, `msg` and custom serializers only see
 * clean values, and a serializer that truncates cannot cut a secret into an unrecognizable piece;
 * credential fields are censored whole at any depth), and every finished line is scrubbed again
 * inside its string literals, which covers child bindings and the mixin.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = createScrubber(options.secrets);
  // Without the g flag: a cheap "may need scrubbing" test, so clean lines skip the rewrite.
  const probe = new RegExp(secretPattern(options.secrets ?? []).pattern.source);
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Lines logged on a request's behalf by code that does not know it (yoga's masked errors, the
      // SDK) still carry its id.
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      hooks: {
        logMethod(args, method) {
          try {
            method.apply(this, args.map((arg) => scrubValue(arg, scrub)) as Parameters<pino.LogFn>);
          } catch (error) {
            // A log call must never throw into the code that made it, often an error path. What
            // could not be serialized is named, not printed; the line-level pass still runs.
            const message = args.find((arg): arg is string => typeof arg === 'string');
            const failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            method.call(
              this,
              { logFailure: scrub(failure) },
              scrub(message ?? 'a log call could not be serialized'),
            );
          }
        },
        streamWrite: (line) => scrubJsonLine(line, scrub, probe),
      },
    },
    options.destination as pino.DestinationStream | undefined,
  );
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * yoga's `logging` option. Yoga logs the original of every error it masks through `error`
 * (OpenAI's 401 text echoes part of the key): the original goes out as `err`, scrubbed like
 * everything else, so the line keeps its stack and type for debugging.
 */
export function yogaLogger(logger: Logger): YogaLogger {
  const child = logger.child({ component: 'yoga' });
  return levelAdapter(child);
}

function levelAdapter(logger: Logger): Record<Level, (...args: unknown[]) => void> {
  const forward =
    (level: Level) =>
    (...args: unknown[]): void => {
      const [first, ...rest] = args;
      if (first instanceof Error) {
        const path = (first as { path?: unknown }).path;
        const graphqlPath = Array.isArray(path) ? path.join('.') : undefined;
        logger[level]({ err: originalOf(first), graphqlPath, ...detailsOf(rest) }, first.message);
      } else if (typeof first === 'string') {
        logger[level](detailsOf(rest), first);
      } else {
        logger[level]({ details: args });
      }
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

/** A GraphQLError wraps what a resolver threw; the wrapped error has the useful type and stack. */
function originalOf(error: Error): Error {
  const original: unknown = (error as { originalError?: unknown }).originalError;
  return original instanceof Error ? original : error;
}

function detailsOf(rest: unknown[]): { details?: unknown[] } {
  return rest.length > 0 ? { details: rest } : {};
}

const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Runs the handling of one request under its id: every line any logger from createLogger writes
 * meanwhile, from any callback or continuation of it, carries `requestId`.
 */
export function withRequestId<T>(requestId: string, run: () => T): T {
  return requestScope.run({ requestId }, run);
}

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}
