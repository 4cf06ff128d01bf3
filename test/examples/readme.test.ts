import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The README shows example files, each fenced block after an `<!-- path -->` comment; those files
 * are what the example tests run, so the README cannot drift from code that works.
 */

const ROOT = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
const blocks = [...readme.matchAll(/<!-- (examples\/[^ ]+) -->\n```[a-z]*\n([\s\S]*?)```\n/g)].map(
  ([, path, body]) => ({ path: path!, body: body! }),
);

describe('README code blocks', () => {
  it('shows the Apollo client and the Relay environment', () => {
    expect(blocks.map((block) => block.path)).toEqual([
      'examples/apollo/src/client.ts',
      'examples/relay/src/environment.ts',
    ]);
  });

  it.each(blocks)('$path is the file, byte for byte', ({ path, body }) => {
    expect(body).toBe(readFileSync(new URL(path, ROOT), 'utf8'));
  });
});
