import { lazy, Suspense, useEffect, useState } from "react";
import { NavLink, Navigate, Route, Routes, useNavigate } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, getToken, post, setToken, type Me, type NodeInfo } from "./api";
import { LANGUAGES, setLanguage, type Language } from "./i18n";
import { NAV } from "./nav";
import { SignIn } from "./pages/SignIn";
import { Overview } from "./pages/Overview";
import { Approvals } from "./pages/Approvals";
import { Jobs } from "./pages/Jobs";
import { Datasets } from "./pages/Datasets";
import { Partners } from "./pages/Partners";
import { Models } from "./pages/Models";
import { Users } from "./pages/Users";
import { Audit } from "./pages/Audit";
import { Psi } from "./pages/Psi";
import { Lookups } from "./pages/Lookups";
import { Ledger } from "./pages/Ledger";

// The editor (canvas, forms) and the monitor (charts) are lazy chunks.
const Editor = lazy(() => import("./editor/Editor"));
const Monitor = lazy(() => import("./monitor/Monitor"));

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="lang">
      {t("app.language")}{" "}
      <select
        aria-label={t("app.language")}
        value={i18n.language}
        onChange={(e) => setLanguage(e.target.value as Language)}
      >
        {LANGUAGES.map((l) => <option key={l} value={l}>{l === "zh-CN" ? "简体中文" : "English"}</option>)}
      </select>
    </label>
  );
}

export function App() {
  const { t } = useTranslation();
  const [signedIn, setSignedIn] = useState(() => getToken() !== null);
  const queries = useQueryClient();
  const navigate = useNavigate();
  useEffect(() => {
    const out = () => setSignedIn(false);
    window.addEventListener("coalition:signed-out", out);
    return () => window.removeEventListener("coalition:signed-out", out);
  }, []);
  const me = useQuery({ queryKey: ["me"], queryFn: () => get<Me>("/auth/me"), enabled: signedIn });
  const node = useQuery({ queryKey: ["node"], queryFn: () => get<NodeInfo>("/node"), enabled: signedIn });
  if (!signedIn) {
    return (
      <div className="signin-shell">
        <div className="signin-lang"><LanguageSwitch /></div>
        <SignIn onSignedIn={() => { setSignedIn(true); navigate("/"); }} />
      </div>
    );
  }
  const perms = new Set(me.data?.permissions ?? []);
  const signOut = async () => {
    try { await post("/auth/logout"); } catch { /* the session may be gone already */ }
    setToken(null);
    queries.clear();
    setSignedIn(false);
  };
  return (
    <div className="shell">
      <a className="skip" href="#main">Skip to content</a>
      <nav className="side" aria-label="main">
        <div className="brand">Coalition{node.data ? <small> · {node.data.name}</small> : null}</div>
        {NAV.map((section) => (
          <div key={section.label}>
            <h2>{t(section.label)}</h2>
            <ul>
              {section.items
                .filter((i) => !i.permission || perms.has(i.permission))
                .map((i) => (
                  <li key={i.path}><NavLink to={i.path} end={i.path === "/"}>{t(i.label)}</NavLink></li>
                ))}
            </ul>
          </div>
        ))}
        <div className="side-foot">
          <LanguageSwitch />
          <p>{me.data?.username} · {me.data?.role}</p>
          <button type="button" onClick={() => void signOut()}>{t("app.signOut")}</button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p>{t("common.loading")}</p>}>
          <Routes>
            <Route path="/" element={<Overview />} />
            <Route path="/approvals" element={<Approvals />} />
            <Route path="/jobs" element={<Jobs />} />
            <Route path="/jobs/:id" element={<Monitor />} />
            <Route path="/editor" element={<Editor />} />
            <Route path="/datasets" element={<Datasets />} />
            <Route path="/psi" element={<Psi />} />
            <Route path="/lookups" element={<Lookups />} />
            <Route path="/partners" element={<Partners />} />
            <Route path="/models" element={<Models />} />
            <Route path="/users" element={<Users />} />
            <Route path="/audit" element={<Audit />} />
            <Route path="/ledger" element={<Ledger />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}
