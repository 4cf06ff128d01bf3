/**
 * The one vocabulary of what can go wrong with a file of the client's multipart request, whoever
 * notices it (the multipart parser, the size limit, the client going away): the mutations answer
 * each code per file, as it is.
 */
export type UploadProblemCode =
  | 'FILE_TOO_LARGE'
  | 'UPLOAD_INCOMPLETE'
  | 'REQUEST_CANCELLED'
  | 'UPLOAD_REUSED';

export class UploadProblem extends Error {
  constructor(
    readonly code: UploadProblemCode,
    message: string,
  ) {
    super(message);
    this.name = 'UploadProblem';
  }

  static tooLarge(maxFileBytes: number): UploadProblem {
    return new UploadProblem(
      'FILE_TOO_LARGE',
      `it is larger than the upload limit of ${maxFileBytes} bytes.`,
    );
  }

  /**
   * What graphql-upload-minimal (and busboy under it) reports, in these words: its HttpErrors
   * carry 413 over the limit, 499 when the client went away, 400 for a part that never came.
   */
  static from(error: unknown, maxFileBytes: number): UploadProblem {
    if (error instanceof UploadProblem) return error;
    const status = (error as { status?: unknown } | null)?.status;
    if (status === 413) return UploadProblem.tooLarge(maxFileBytes);
    if (status === 499) {
      return new UploadProblem('REQUEST_CANCELLED', 'the client went away before the file was complete.');
    }
    return new UploadProblem('UPLOAD_INCOMPLETE', 'the request did not carry this file completely.');
  }
}
