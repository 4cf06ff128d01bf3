/**
 * What file_search would make of a file: whether it can be indexed, and its text. Type detection
 * goes by extension, as the real service does; the multipart part's Content-Type is not trusted
 * (the SDK sends application/octet-stream whenever the caller gives no type).
 */
import { extname } from 'node:path';

export interface IndexError {
  code: 'unsupported_file' | 'invalid_file';
  message: string;
}

/** The supported-files table of OpenAI's file_search guide. */
const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.c': 'text/x-c',
  '.cpp': 'text/x-c++',
  '.cs': 'text/x-csharp',
  '.css': 'text/css',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.html': 'text/html',
  '.java': 'text/x-java',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.php': 'text/x-php',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.py': 'text/x-python',
  '.rb': 'text/x-ruby',
  '.sh': 'application/x-sh',
  '.tex': 'text/x-tex',
  '.ts': 'application/typescript',
  '.txt': 'text/plain',
};

/** Formats whose text would need a document parser; the emulator indexes them without text. */
const BINARY_DOCUMENTS = new Set(['.doc', '.docx', '.pdf', '.pptx']);

const extensionOf = (filename: string): string => extname(filename).toLowerCase();

/** Decodes text the way file_search accepts it: UTF-8 (ASCII included) or UTF-16 with a BOM. */
function decodeText(content: Buffer): string | null {
  try {
    if (content[0] === 0xff && content[1] === 0xfe)
      return new TextDecoder('utf-16le', { fatal: true }).decode(content);
    if (content[0] === 0xfe && content[1] === 0xff)
      return new TextDecoder('utf-16be', { fatal: true }).decode(content);
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
}

export function assessFile(filename: string, content: Buffer): IndexError | null {
  const extension = extensionOf(filename);
  if (!(extension in MIME_BY_EXTENSION)) {
    return {
      code: 'unsupported_file',
      message: `The file type ${extension || '(none)'} is not supported for file_search.`,
    };
  }
  if (content.length === 0) return { code: 'invalid_file', message: 'The file is empty.' };
  if (!BINARY_DOCUMENTS.has(extension) && decodeText(content) === null) {
    return {
      code: 'invalid_file',
      message: 'The file could not be decoded as text. Text files must be UTF-8, UTF-16 or ASCII.',
    };
  }
  return null;
}

/** The searchable text of an indexable file; binary documents yield none (no parser here). */
export function extractText(filename: string, content: Buffer): string {
  if (BINARY_DOCUMENTS.has(extensionOf(filename))) return '';
  return decodeText(content) ?? '';
}
