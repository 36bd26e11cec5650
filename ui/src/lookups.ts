// Pure helpers of the Private lookup screen (PIR services and three-element verification).

/** One field of a CSV line (RFC 4180: quoted when it holds a comma, quote or line break). */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows (objects) as CSV text with a header line, columns in first-seen order. */
export function toCsv(rows: Record<string, unknown>[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const lines = [columns.map(csvField).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(","));
  return lines.join("\n") + "\n";
}

/** IDs typed one per line (or comma-separated), blanks dropped, as a one-column CSV upload. */
export function idsAsCsv(text: string, column = "id"): string {
  const ids = text.split(/[\n,]/).map((x) => x.trim()).filter((x) => x.length > 0);
  return [column, ...ids.map(csvField)].join("\n") + "\n";
}

export interface Flags { phone_found: boolean; name_match: boolean; id_match: boolean }

/** Counts of the verification answer, for the summary line. */
export function flagCounts(results: Flags[]): { found: number; names: number; ids: number; all: number } {
  let found = 0, names = 0, ids = 0, all = 0;
  for (const r of results) {
    if (r.phone_found) found += 1;
    if (r.name_match) names += 1;
    if (r.id_match) ids += 1;
    if (r.phone_found && r.name_match && r.id_match) all += 1;
  }
  return { found, names, ids, all };
}

/** Save text as a file in the browser. */
export function saveText(text: string, filename: string, type = "text/csv"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
