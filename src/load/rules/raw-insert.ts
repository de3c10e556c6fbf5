// dr-raw-insert: `{{{ … }}}` inserts a value as raw text, bypassing shell quoting.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { parseTemplate } from '../../plan/template.js';
import { diagAtTemplate } from '../positions.js';
import { stepName } from './common.js';
import { templateFields } from './template-fields.js';

export function lintRawInserts(rb: Loaded<Runbook>, s: Step, i: number, out: Diagnostic[]): void {
  const f = rb.file;
  for (const tf of templateFields(s, i)) {
    for (const ref of parseTemplate(tf.source).refs) {
      if (!ref.raw) continue;
      out.push(
        diagAtTemplate(
          f,
          tf,
          ref,
          'warning',
          'dr-raw-insert',
          `${stepName(s, i)} ${tf.field}: {{{ ${ref.path} }}} inserts raw text${tf.shell ? ', unquoted, into a shell command' : ''}`,
          'use {{ … }} (two braces) so the value is quoted; keep {{{ … }}} only for trusted text that must stay unquoted',
        ),
      );
    }
  }
}
