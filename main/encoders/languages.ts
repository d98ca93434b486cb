/**
 * The app's language (a BCP-47 tag: "de", "pt-BR", "zh-TW") as the FLORES-200 code NLLB text towers
 * read before a sentence ("deu_Latn"), as Immich maps its interface languages. Unknown → English.
 */
const FLORES: Readonly<Record<string, string>> = {
  en: 'eng_Latn', de: 'deu_Latn', fr: 'fra_Latn', es: 'spa_Latn', it: 'ita_Latn', pt: 'por_Latn', nl: 'nld_Latn',
  sv: 'swe_Latn', da: 'dan_Latn', nb: 'nob_Latn', no: 'nob_Latn', fi: 'fin_Latn', is: 'isl_Latn', pl: 'pol_Latn',
  cs: 'ces_Latn', sk: 'slk_Latn', sl: 'slv_Latn', hr: 'hrv_Latn', sr: 'srp_Cyrl', bg: 'bul_Cyrl', ro: 'ron_Latn',
  hu: 'hun_Latn', el: 'ell_Grek', tr: 'tur_Latn', ru: 'rus_Cyrl', uk: 'ukr_Cyrl', be: 'bel_Cyrl', lt: 'lit_Latn',
  lv: 'lvs_Latn', et: 'est_Latn', ca: 'cat_Latn', eu: 'eus_Latn', gl: 'glg_Latn', ar: 'arb_Arab', he: 'heb_Hebr',
  fa: 'pes_Arab', ur: 'urd_Arab', hi: 'hin_Deva', bn: 'ben_Beng', ta: 'tam_Taml', te: 'tel_Telu', mr: 'mar_Deva',
  th: 'tha_Thai', vi: 'vie_Latn', id: 'ind_Latn', ms: 'zsm_Latn', ja: 'jpn_Jpan', ko: 'kor_Hang',
  zh: 'zho_Hans', 'zh-cn': 'zho_Hans', 'zh-hans': 'zho_Hans', 'zh-tw': 'zho_Hant', 'zh-hk': 'zho_Hant', 'zh-hant': 'zho_Hant',
};

export function floresCode(language: string | null | undefined): string {
  if (!language) return FLORES['en']!;
  const tag = language.toLowerCase().replace(/_/g, '-');
  return FLORES[tag] ?? FLORES[tag.split('-')[0]!] ?? FLORES['en']!;
}

/** The library setting that holds the language searches are written in. */
export const SEARCH_LANGUAGE_SETTING = 'search.language';

/** This computer's language, as the operating system says (the app follows it until the user picks another). */
export function systemLanguage(): string {
  return Intl.DateTimeFormat().resolvedOptions().locale || 'en';
}
