// `{var}` templates; `{{` and `}}` are literal braces.

export type TemplatePart = { text: string } | { name: string };

export interface ParsedTemplate {
  parts: TemplatePart[];
  /** Why the template is malformed, when it is. */
  error?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseTemplate(source: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '{' && source[i + 1] === '{') {
      text += '{';
      i++;
    } else if (ch === '}' && source[i + 1] === '}') {
      text += '}';
      i++;
    } else if (ch === '{') {
      const end = source.indexOf('}', i + 1);
      const name = end < 0 ? '' : source.slice(i + 1, end);
      if (!NAME.test(name)) {
        return { parts, error: `\`{\` at position ${i + 1} does not start a \`{name}\` variable; write \`{{\` for a literal brace` };
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({ name });
      i = end;
    } else if (ch === '}') {
      return { parts, error: `stray \`}\` at position ${i + 1}; write \`}}\` for a literal brace` };
    } else {
      text += ch;
    }
  }
  if (text) parts.push({ text });
  return { parts };
}

export function templateNames(parsed: ParsedTemplate): string[] {
  return parsed.parts.flatMap((p) => ('name' in p ? [p.name] : []));
}

/** Renders with the given scope; names missing from it are returned (and rendered empty). */
export function renderTemplate(parsed: ParsedTemplate, scope: Readonly<Record<string, string>>, transform?: (value: string) => string): { text: string; missing: string[] } {
  const missing: string[] = [];
  let text = '';
  for (const part of parsed.parts) {
    if ('text' in part) text += part.text;
    else if (Object.hasOwn(scope, part.name)) text += transform ? transform(scope[part.name] ?? '') : scope[part.name];
    else missing.push(part.name);
  }
  return { text, missing };
}

/** True when the string has anything a template would change. */
export function isTemplate(source: string): boolean {
  return source.includes('{') || source.includes('}');
}
