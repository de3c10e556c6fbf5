// Includes form no cycle: a runbook that includes itself, directly or through others.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Project } from '../project.js';
import { diagAt } from '../positions.js';
import { stepName } from './common.js';

export function checkIncludeCycles(project: Project, out: Diagnostic[]): void {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    const rb = project.runbooks.get(name);
    if (!rb?.valid) {
      state.set(name, 'done');
      return;
    }
    state.set(name, 'active');
    stack.push(name);
    rb.data.steps.forEach((s, i) => {
      if (!s.include || !project.runbooks.has(s.include)) return;
      if (state.get(s.include) === 'active') {
        const cycle = [...stack.slice(stack.indexOf(s.include)), s.include];
        out.push(
          diagAt(
            rb.file,
            ['steps', i, 'include'],
            false,
            'error',
            'include-cycle',
            `${stepName(s, i)} closes an include cycle: ${cycle.join(' → ')}`,
            'a runbook cannot include itself, directly or through others',
          ),
        );
      } else if (!state.has(s.include)) visit(s.include);
    });
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...project.runbooks.keys()].sort()) if (!state.has(name)) visit(name);
}
