import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { del, get, patch, post, type ApiKey, type User } from "../api";
import { ErrorBox, Page, Table, when } from "../ui";

const ROLES = ["admin", "data_scientist", "operator", "auditor"];

export function Users() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const users = useQuery({ queryKey: ["users"], queryFn: () => get<User[]>("/users") });
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => get<ApiKey[]>("/api-keys") });
  const [user, setUser] = useState({ username: "", role: "data_scientist", kind: "human", password: "" });
  const [key, setKey] = useState({ username: "", scopes: "" });
  const create = useMutation({ mutationFn: () => post("/users", { ...user, password: user.kind === "api" ? null : user.password }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["users"] }) });
  const issue = useMutation({
    mutationFn: () => post<{ key: string }>("/api-keys", { username: key.username,
      scopes: key.scopes.split(",").map((s) => s.trim()).filter(Boolean) }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["api-keys"] }) });
  const change = useMutation({
    mutationFn: ({ username, body }: { username: string; body: Record<string, unknown> }) => patch(`/users/${username}`, body),
    onSettled: () => client.invalidateQueries({ queryKey: ["users"] }) });
  const revoke = useMutation({ mutationFn: (id: string) => del(`/api-keys/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ["api-keys"] }) });
  return (
    <Page title={t("users.title")}>
      <h2>{t("users.users")}</h2>
      <ErrorBox error={users.error} />
      <Table label={t("users.users")} rows={users.data} rowKey={(u) => u.username} cols={[
        { key: "username", label: t("signIn.username") },
        { key: "role", label: t("common.role"), render: (u) => (
          <select aria-label={`${t("common.role")} ${u.username}`} value={u.role}
            onChange={(e) => change.mutate({ username: u.username, body: { role: e.target.value } })}>
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}</select>) },
        { key: "kind", label: t("users.kind") },
        { key: "disabled", label: t("users.disabled"), render: (u) => (
          <input type="checkbox" aria-label={`${t("users.disabled")} ${u.username}`} checked={Boolean(u["disabled"])}
            onChange={(e) => change.mutate({ username: u.username, body: { disabled: e.target.checked } })} />) },
      ]} />
      <ErrorBox error={change.error} />
      <form className="grid-form" aria-label={t("users.create")} onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <label>{t("signIn.username")}<input value={user.username} onChange={(e) => setUser({ ...user, username: e.target.value })} /></label>
        <label>{t("common.role")}<select value={user.role} onChange={(e) => setUser({ ...user, role: e.target.value })}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
        <label>{t("users.kind")}<select value={user.kind} onChange={(e) => setUser({ ...user, kind: e.target.value })}>
          <option value="human">{t("users.human")}</option><option value="api">{t("users.api")}</option></select></label>
        <label>{t("signIn.password")}<input type="password" disabled={user.kind === "api"} value={user.password} onChange={(e) => setUser({ ...user, password: e.target.value })} /></label>
        <button type="submit">{t("users.create")}</button>
      </form>
      <ErrorBox error={create.error} />
      <h2>{t("users.apiKeys")}</h2>
      <Table label={t("users.apiKeys")} rows={keys.data} rowKey={(k) => String(k["key_id"])} cols={[
        { key: "key_id", label: "id" },
        { key: "username", label: t("signIn.username") },
        { key: "scopes", label: t("users.scopes"), render: (k) => k.scopes.join(", ") },
        { key: "created", label: t("common.created"), render: (k) => when(String(k["created_at"])) },
        { key: "act", label: t("common.actions"), render: (k) => k["revoked_at"] ? "—" : (
          <button type="button" className="danger" onClick={() => revoke.mutate(String(k["key_id"]))}>{t("users.revoke")}</button>) },
      ]} />
      <form className="grid-form" aria-label={t("users.issue")} onSubmit={(e) => { e.preventDefault(); issue.mutate(); }}>
        <label>{t("signIn.username")}<input value={key.username} onChange={(e) => setKey({ ...key, username: e.target.value })} /></label>
        <label>{t("users.scopes")}<input value={key.scopes} onChange={(e) => setKey({ ...key, scopes: e.target.value })} /></label>
        <button type="submit">{t("users.issue")}</button>
      </form>
      <ErrorBox error={issue.error ?? revoke.error} />
      {issue.data && <p role="status" className="mono">{t("users.newKey", { key: issue.data.key })}</p>}
    </Page>
  );
}
