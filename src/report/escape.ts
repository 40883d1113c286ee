/**
 * Escaping for text placed into SVG and HTML markup.
 *
 * Every string that comes from a caller (a series name, a table cell, a page title) passes through
 * `escapeXml` before it is concatenated into markup, so a name such as `</script><script>alert(1)</script>`
 * is shown as text and can never open a tag. The same escape is safe in element text and in double- or
 * single-quoted attribute values, so there is one function to remember, not two.
 */

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Characters XML 1.0 forbids outright (C0 controls other than tab/newline/return, lone surrogates,
 * U+FFFE/U+FFFF). Escaping cannot make them legal, so they are replaced by U+FFFD.
 */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes `& < > " '` and replaces characters XML cannot carry; safe for element text and attribute values. */
export function escapeXml(text: string): string {
  return String(text)
    .replace(XML_FORBIDDEN, '\uFFFD')
    .replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch] ?? ch);
}
