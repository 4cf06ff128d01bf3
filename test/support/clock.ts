import type { Clock } from '../../src/emulator/index.ts';

/** The one fake clock of the suite: it only moves when told, so tests can create many objects in the same second. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 1, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
