/**
 * Preloaded (`node --expose-gc --import tsx --import ./bench/gateway-probe.ts <entry>`) into the
 * processes the benchmarks measure. Over the IPC channel the bench opened, `'memory'` runs a full
 * GC and answers with `process.memoryUsage()`. It does nothing else: the entry runs unchanged.
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
