import { PassThrough, type Readable } from 'node:stream';

/**
 * A file of a multipart request (busboy, via graphql-upload-minimal), seen as a stream
 * `uploadFileStream` may give up on.
 *
 * `uploadFileStream` destroys a source it abandons. Destroying one busboy file stream stalls the
 * whole form: busboy waits for that stream to be read before it parses the next part, so the
 * request's other files would never arrive. This wrapper is what gets destroyed; the real stream is
 * then drained instead, which busboy bounds at its size limit (it skips the rest of the part).
 */
export class UploadSource {
  readonly stream: Readable;
  private ended = false;

  constructor(source: Readable) {
    const forwarded = new PassThrough();
    this.stream = forwarded;
    source.on('limit', () => {
      // busboy ends an oversize stream normally and only flags it, so the flag must travel too.
      Object.assign(forwarded, { truncated: true });
      forwarded.emit('limit');
    });
    source.once('end', () => {
      this.ended = true;
    });
    source.on('error', (error: Error) => {
      forwarded.destroy(new SourceInterruptedError(error));
    });
    forwarded.once('close', () => {
      if (source.readableEnded || source.destroyed) return;
      source.unpipe(forwarded);
      source.resume();
    });
    source.pipe(forwarded);
  }

  /** Every byte the client sent for this file has been read. */
  get complete(): boolean {
    return this.ended;
  }
}

/** An AbortError by name, so the one error mapping reports it as a cancelled request. */
export class SourceInterruptedError extends Error {
  constructor(cause: Error) {
    super('The client stopped sending the file before it was complete.', { cause });
    this.name = 'AbortError';
  }
}
