// i18next with zh-CN (default) and en; the choice is remembered in localStorage.
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { en } from "./locales/en";
import { zhCN } from "./locales/zh-CN";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
const KEY = "coalition.language";

export function savedLanguage(): Language {
  const saved = typeof localStorage === "undefined" ? null : localStorage.getItem(KEY);
  return saved === "en" || saved === "zh-CN" ? saved : "zh-CN";
}

export function setLanguage(lng: Language): void {
  localStorage.setItem(KEY, lng);
  void i18next.changeLanguage(lng);
  document.documentElement.lang = lng;
}

export const resources = { en: { translation: en }, "zh-CN": { translation: zhCN } };

void i18next.use(initReactI18next).init({
  resources,
  lng: savedLanguage(),
  fallbackLng: "en",
  interpolation: { escapeValue: false },
});

export default i18next;
