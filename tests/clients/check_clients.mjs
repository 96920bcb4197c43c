// Client libraries others wrote (tests/clients/package.json pins them),
// driven against our servers as their READMEs tell a user to: three
// LibreTranslate clients against `translate serve`, OpenAI's SDK against
// `speech serve`. Each check prints one JSON line {client, check, ok, got,
// expected}; the exit status is the number of failed checks.
//   node check_clients.mjs --translate URL [--speech URL --speech-key KEY --wav FILE --wav-text TEXT]
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
let failed = 0;
function report(client, check, ok, got, expected) {
  if (!ok) failed += 1;
  console.log(JSON.stringify({ client, check, ok, got, expected }));
}
async function attempt(client, check, body) {
  try {
    await body();
  } catch (error) {
    report(client, check, false, String(error && error.stack || error), "no exception");
  }
}
function version(name) {  // read from the installed package (some do not export their package.json)
  const file = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(fs.readFileSync(file, "utf8")).version;
}

// What the server itself answers, asked with plain fetch: the clients must give the same.
async function serverTranslation(base, q) {
  const r = await fetch(`${base}/translate`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ q, source: "de", target: "en" }) });
  return (await r.json()).translatedText;
}

const sentences = ["ein mann fährt mit dem fahrrad .", "zwei hunde spielen im schnee .", "eine frau liest ein buch ."];

if (args.translate) {
  const base = args.translate;
  const expected = await Promise.all(sentences.map((s) => serverTranslation(base, s)));

  const libretranslate = `libretranslate@${version("libretranslate")}`;
  await attempt(libretranslate, "translate x3", async () => {
    const { translate } = require("libretranslate");
    for (let i = 0; i < sentences.length; i++) {
      const got = await translate({ query: sentences[i], source: "de", target: "en", apiurl: base });
      report(libretranslate, `translate ${i + 1}`, got === expected[i], got, expected[i]);
    }
  });

  const ts = `libretranslate-ts@${version("libretranslate-ts")}`;
  await attempt(ts, "all", async () => {
    const { libreTranslate } = require("libretranslate-ts");
    libreTranslate.setApiEndpoint(base);
    const languages = await libreTranslate.listLanguages();
    const codes = languages.map((l) => l.code).sort().join(",");
    report(ts, "listLanguages", codes === "de,en", codes, "de,en");
    const detected = await libreTranslate.detect(sentences[1]);
    report(ts, "detect", detected.status === 200 && detected.language === "de", detected, "de");
    for (let i = 0; i < sentences.length; i++) {
      const got = await libreTranslate.translate(sentences[i], "de", "en", 2);
      report(ts, `translate ${i + 1} with 2 alternatives`,
        got.status === 200 && got.translatedText === expected[i] && Array.isArray(got.alternatives),
        got, expected[i]);
    }
  });

  const translatePackage = `translate@${version("translate")}`;
  await attempt(translatePackage, "all", async () => {
    const { Translate } = await import("translate");
    const translate = Translate({ engine: "libre", url: `${base}/translate`, from: "de" });
    for (let i = 0; i < sentences.length; i++) {
      const got = await translate(sentences[i], "en");
      report(translatePackage, `translate ${i + 1}`, got === expected[i], got, expected[i]);
    }
  });
}

if (args.speech) {
  const openai = `openai@${version("openai")}`;
  await attempt(openai, "all", async () => {
    const { default: OpenAI } = await import("openai");
    const client = new OpenAI({ apiKey: args["speech-key"], baseURL: `${args.speech}/v1` });
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    report(openai, "models.list", models.length === 1, models, "one model");
    const asJson = await client.audio.transcriptions.create({ file: fs.createReadStream(args.wav), model: "whisper-1" });
    report(openai, "transcriptions json", typeof asJson.text === "string", asJson.text,
      `a transcript (the clip says "${args["wav-text"]}")`);
    const verbose = await client.audio.transcriptions.create({
      file: fs.createReadStream(args.wav), model: "whisper-1", response_format: "verbose_json",
      timestamp_granularities: ["word", "segment"] });
    const wordsOk = Array.isArray(verbose.words) && verbose.words.every((w, i) =>
      w.start <= w.end && (i === 0 || verbose.words[i - 1].end <= w.start + 1e-9));
    report(openai, "transcriptions verbose_json", verbose.text === asJson.text && wordsOk && verbose.segments.length >= 1,
      { text: verbose.text, words: verbose.words, segments: verbose.segments.length }, "the same text, ordered word times");
    const srt = await client.audio.transcriptions.create({
      file: fs.createReadStream(args.wav), model: "whisper-1", response_format: "srt" });
    // A tiny model may hear no word at all: then the SubRip file is empty.
    const srtOk = verbose.words.length === 0 ? srt === "" : /^1\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n/.test(srt);
    report(openai, "transcriptions srt", srtOk, srt, "SubRip, one cue per segment");
    try {
      const wrong = new OpenAI({ apiKey: "wrong", baseURL: `${args.speech}/v1` });
      await wrong.audio.transcriptions.create({ file: fs.createReadStream(args.wav), model: "whisper-1" });
      report(openai, "wrong key refused", false, "answered", "AuthenticationError (401)");
    } catch (error) {
      report(openai, "wrong key refused", error.status === 401 && error.constructor.name === "AuthenticationError",
        `${error.constructor.name} ${error.status}: ${error.message}`, "AuthenticationError (401)");
    }
  });
}

process.exit(failed);
