import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';

describe('the unit tier', () => {
  it('fails a test that listens, connects or starts a process', async () => {
    expect(() => createServer().listen(0)).toThrow(/listen on a port/);
    await expect(fetch('http://127.0.0.1:4000/')).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/open a connection/) },
    });
    expect(() => spawn('true')).toThrow(/start a process/);
  });
});
