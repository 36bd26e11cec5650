// Small shared pieces: tables, state badges, error boxes, JSON blocks.
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import i18next from "i18next";
import { ApiError } from "./api";

export interface Col<T> {
  key: string;
  label: string;
  render?: (row: T) => ReactNode;
}

export function Table<T>({ rows, cols, rowKey, label }: {
  rows: T[] | undefined; cols: Col<T>[]; rowKey: (row: T) => string; label: string;
}) {
  const { t } = useTranslation();
  if (!rows) return <p>{t("common.loading")}</p>;
  if (rows.length === 0) return <p className="muted">{t("common.none")}</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>{cols.map((c) => <th key={c.key} scope="col">{c.label}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {cols.map((c) => (
              <td key={c.key}>
                {c.render ? c.render(row) : String((row as Record<string, unknown>)[c.key] ?? "")}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StateBadge({ state }: { state: string }) {
  const { t } = useTranslation();
  return <span className={`badge state-${state}`}>{t(`states.${state}`, { defaultValue: state })}</span>;
}

export function ErrorBox({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? ` (${error.code})` : "";
  return (
    <div role="alert" className="error">
      {t("common.error")}: {message}{code}
      {error instanceof ApiError && error.errors.length > 0 && (
        <ul>{error.errors.map((e, i) => <li key={i}>{e.path ?? e.loc?.join(".")}: {e.message ?? e.msg}</li>)}</ul>
      )}
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(i18next.language) : "—";
}

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title">{title}</h1>
        <div className="page-actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}
