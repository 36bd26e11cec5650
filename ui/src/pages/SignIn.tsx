import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, post, setToken } from "../api";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post<{ token: string }>("/auth/login", { username, password });
      setToken(r.token);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="signin" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
      <h1 id="signin-title">Coalition · {t("signIn.title")}</h1>
      <label>{t("signIn.username")}
        <input name="username" autoComplete="username" value={username}
          onChange={(e) => setUsername(e.target.value)} required />
      </label>
      <label>{t("signIn.password")}
        <input name="password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} required />
      </label>
      {error && <p role="alert" className="error">{t("signIn.failed", { message: error })}</p>}
      <button type="submit" disabled={busy}>{t("signIn.submit")}</button>
    </form>
  );
}
