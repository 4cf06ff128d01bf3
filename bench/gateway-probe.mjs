/**
 * Preloaded (`node --expose-gc --import ./bench/gateway-probe.mjs <entry>`) into the processes the
 * benchmarks measure. Over the IPC channel the bench opened, `'memory'` runs a full GC and answers
 * with `process.memoryUsage()`. It does nothing else: the entry runs unchanged. Plain JavaScript,
 * so the compiled gateway takes it without tsx.
 */
if (process.send) {
  process.on('message', (message) => {
    if (message !== 'memory') return;
    globalThis.gc?.();
    process.send?.({ memory: process.memoryUsage() });
  });
  // The channel must not keep a process alive that would otherwise exit.
  process.channel?.unref();
}
