// French by default (Quebec wording), English on the toggle. The choice is
// the only thing the app keeps in the browser's storage.
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { setApiLanguage } from "./api";
import { en, fr } from "./messages";

export const LANGUAGES = ["fr", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = "sexto.language";

function stored(): Language {
  try {
    return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "fr";
  } catch {
    return "fr";
  }
}

export function applyLanguage(lang: Language): void {
  setApiLanguage(lang);
  document.documentElement.lang = lang;
}

export async function initI18n(lang: Language = stored()): Promise<typeof i18next> {
  await i18next.use(initReactI18next).init({
    resources: { fr: { translation: fr }, en: { translation: en } },
    lng: lang,
    fallbackLng: "fr",
    interpolation: { escapeValue: false },
  });
  applyLanguage(lang);
  return i18next;
}

export async function switchLanguage(lang: Language): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // A browser that keeps nothing: the choice lasts until the page is left.
  }
  await i18next.changeLanguage(lang);
  applyLanguage(lang);
}

/** A value of the grid template's label maps: {fr: …, en: …}. */
export function localized(labels: Record<string, string> | undefined | null, lang: string): string {
  if (!labels) return "";
  return labels[lang] ?? labels.fr ?? Object.values(labels)[0] ?? "";
}
