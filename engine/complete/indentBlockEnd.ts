// A language-agnostic block-end rule used when no tree-sitter grammar is available: the completion ends before
// the first later line that is indented less than the cursor's line (the enclosing block closed).

function indentWidth(line: string): number {
  let w = 0;
  for (const c of line) {
    if (c === ' ') w++;
    else if (c === '\t') w += 4;
    else break;
  }
  return w;
}

export function indentBlockEndRule(prefix: string): (completion: string) => number {
  const cursorLine = prefix.slice(prefix.lastIndexOf('\n') + 1);
  return (completion: string): number => {
    const firstBreak = completion.indexOf('\n');
    if (firstBreak < 0) return -1;
    const firstLine = cursorLine + completion.slice(0, firstBreak);
    const base = firstLine.trim().length > 0 ? indentWidth(firstLine) : Infinity;
    let offset = firstBreak + 1;
    let current = base;
    while (offset <= completion.length) {
      const end = completion.indexOf('\n', offset);
      if (end < 0) return -1; // the last line is not finished yet
      const line = completion.slice(offset, end);
      if (line.trim().length > 0) {
        const w = indentWidth(line);
        if (current === Infinity) current = w;
        else if (w < current) return offset - 1;
      }
      offset = end + 1;
    }
    return -1;
  };
}
