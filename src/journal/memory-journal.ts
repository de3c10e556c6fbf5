// A journal kept in memory: for dry runs (nothing is written anywhere) and unit tests.
import type { Journal } from '../ports.js';
import type { JournalRecord, RunEvent } from '../engine/events.js';

export class MemoryJournal implements Journal {
  readonly records: JournalRecord[] = [];
  constructor(private readonly now: () => number = Date.now) {}
  async append(event: RunEvent): Promise<JournalRecord> {
    const rec = { ...event, seq: this.records.length + 1, at: new Date(this.now()).toISOString() } as JournalRecord;
    this.records.push(rec);
    return rec;
  }
  async close(): Promise<void> {}
}
