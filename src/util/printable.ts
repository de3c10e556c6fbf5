// Text from remote hosts and runbook files shown on a terminal: control characters (other
// than newline and tab) are written as visible escapes, so output cannot clear the screen,
// move the cursor over lifeboat's own lines, retitle the window or hide text.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) =>
    c === '\u001b' ? '\\e' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
