// The document's own numbering: its section numbers, the anchors links point at, and the
// contents page built from them.
import type { RunbookView } from './runbook.js';

export interface ContentsEntry {
  section: string;
  title: string;
  anchor: string;
  level: 1 | 2;
  page?: number;
}

// the document's own section numbers; runbooks are RUNBOOK_SECTION.1, .2, …
export const SECTIONS = {
  contacts: 1,
  situations: 2,
  services: 3,
  order: 4,
  runbooks: 5,
  verify: 6,
  network: 7,
  breakglass: 8,
  changes: 9,
  appendix: 10,
} as const;

export const anchorOf = (runbook: string) => `runbook-${runbook}`;

export function contentsOf(views: RunbookView[]): ContentsEntry[] {
  return [
    { section: String(SECTIONS.contacts), title: 'Contacts and escalation', anchor: 'contacts', level: 1 },
    {
      section: String(SECTIONS.situations),
      title: 'Which runbook? Symptoms and situations',
      anchor: 'situations',
      level: 1,
    },
    { section: String(SECTIONS.services), title: 'Services', anchor: 'services', level: 1 },
    { section: String(SECTIONS.order), title: 'Recovery order', anchor: 'order', level: 1 },
    { section: String(SECTIONS.runbooks), title: 'Runbooks', anchor: views[0]?.anchor ?? 'order', level: 1 },
    ...views.map((v): ContentsEntry => ({ section: v.section, title: v.title, anchor: v.anchor, level: 2 })),
    { section: String(SECTIONS.verify), title: 'After recovery: verification checklist', anchor: 'verify', level: 1 },
    {
      section: String(SECTIONS.network),
      title: 'Network addresses and where credentials live',
      anchor: 'network',
      level: 1,
    },
    {
      section: String(SECTIONS.breakglass),
      title: 'Break glass: reaching each host by hand',
      anchor: 'breakglass',
      level: 1,
    },
    { section: String(SECTIONS.changes), title: 'Change log', anchor: 'changes', level: 1 },
    { section: String(SECTIONS.appendix), title: 'Appendix: hosts and input files', anchor: 'appendix', level: 1 },
  ];
}
