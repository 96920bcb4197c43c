#include "apps/translate/serve/serve_page.h"

namespace tg::translate {

// The page asks /languages, /frontend/settings and /models, then translates with LibreTranslate's
// /translate. Element ids the browser test (tests/check_serve_browser.py) reads: source, translate, output,
// status, count, alternatives, source-language, copy, heatmap (data-drawn="yes" once drawn).
const std::string& translate_page() {
  static const std::string page = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tapegrad translate</title>
<style>
  body { font-family: sans-serif; max-width: 56rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.5rem; }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
  textarea { width: 100%; box-sizing: border-box; font-size: 1.1rem; }
  #count { font-size: 0.85rem; color: #555; }
  #count.over { color: #a00; font-weight: bold; }
  #output { font-size: 1.3rem; margin: 0.8rem 0 0.3rem; min-height: 1.6rem; }
  #alternatives { color: #555; margin: 0.2rem 0 0.8rem 1.2rem; padding: 0; }
  #status { color: #a00; min-height: 1.2rem; }
  #detected { font-size: 0.85rem; color: #555; min-height: 1rem; }
  label { font-size: 0.9rem; color: #555; }
  .figure { overflow-x: auto; }
</style>
</head>
<body>
<h1>Translate</h1>
<div class="row">
  <label>From <select id="source-language"><option value="auto">detect</option></select></label>
  <label>to <select id="target-language"></select></label>
  <label>API key <input id="key" size="12"></label>
</div>
<textarea id="source" rows="3">Ein Mann fährt mit dem Fahrrad.</textarea>
<div class="row">
  <button id="translate">Translate</button>
  <span id="count"></span>
  <span id="detected"></span>
</div>
<div class="row"><div id="output"></div><button id="copy" hidden>Copy</button></div>
<ol id="alternatives"></ol>
<div id="status"></div>
<div class="figure"><canvas id="heatmap" width="10" height="10" data-drawn="no"></canvas></div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let charLimit = 0, alternatives = 0, languages = [];

// What the server offers: its languages, its character limit, its beam (alternatives up to beam - 1, 2 here).
async function setUp() {
  try {
    const [langs, settings, models] = await Promise.all(
      ["/languages", "/frontend/settings", "/models"].map((u) => fetch(u).then((r) => r.json())));
    languages = langs;
    charLimit = settings.charLimit;
    alternatives = Math.min(2, Math.max(0, (models[0].beam || 1) - 1));
    for (const l of languages) $("source-language").add(new Option(`${l.name} (${l.code})`, l.code));
    $("source-language").value = settings.language.source.code;
    fillTargets();
    $("target-language").value = settings.language.target.code;
  } catch (error) {
    $("status").textContent = "could not ask the server for its languages: " + error;
  }
  count();
}
function fillTargets() {
  const source = $("source-language").value, select = $("target-language"), before = select.value;
  const targets = source === "auto" ? [...new Set(languages.flatMap((l) => l.targets))]
                                    : (languages.find((l) => l.code === source) || { targets: [] }).targets;
  select.replaceChildren(...targets.map((code) => {
    const l = languages.find((x) => x.code === code);
    return new Option(l ? `${l.name} (${code})` : code, code);
  }));
  if (targets.includes(before)) select.value = before;
}
// Characters as the server counts them (code points), against its limit.
function count() {
  const n = [...$("source").value].length;
  $("count").textContent = charLimit ? `${n} / ${charLimit} characters` : `${n} characters`;
  $("count").classList.toggle("over", charLimit > 0 && n > charLimit);
}

// weights[i][j]: attention of target token i on source token j; darker = more.
function drawHeatmap(attention) {
  const canvas = $("heatmap"), ctx = canvas.getContext("2d");
  const cell = 28, left = 90, top = 90;
  const src = attention.source, tgt = attention.target, w = attention.weights;
  canvas.width = left + cell * src.length + 10;
  canvas.height = top + cell * tgt.length + 10;
  ctx.font = "12px sans-serif";
  ctx.fillStyle = "#222";
  src.forEach((token, j) => {
    ctx.save();
    ctx.translate(left + cell * j + cell / 2, top - 6);
    ctx.rotate(-Math.PI / 3);
    ctx.fillText(token, 0, 0);
    ctx.restore();
  });
  tgt.forEach((token, i) => {
    ctx.fillStyle = "#222";
    ctx.fillText(token, 4, top + cell * i + cell / 2 + 4);
    w[i].forEach((a, j) => {
      const shade = Math.round(255 * (1 - a));
      ctx.fillStyle = `rgb(${shade}, ${shade}, 255)`;
      ctx.fillRect(left + cell * j, top + cell * i, cell - 1, cell - 1);
    });
  });
  canvas.dataset.drawn = "yes";
}

async function translate() {
  $("status").textContent = "";
  $("detected").textContent = "";
  $("output").textContent = "…";
  $("copy").hidden = true;
  $("alternatives").replaceChildren();
  $("heatmap").dataset.drawn = "no";
  const request = { q: $("source").value, source: $("source-language").value, target: $("target-language").value,
                    format: "text", alternatives, attention: true };
  if ($("key").value) request.api_key = $("key").value;
  try {
    const response = await fetch("/translate", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    $("output").textContent = answer.translatedText;
    $("copy").hidden = false;
    for (const alt of answer.alternatives || []) $("alternatives").append(Object.assign(document.createElement("li"), { textContent: alt }));
    if (answer.detectedLanguage)
      $("detected").textContent = `detected: ${answer.detectedLanguage.language} (${answer.detectedLanguage.confidence}%)`;
    if (answer.attention) drawHeatmap(answer.attention);
    else $("status").textContent = "no attention to draw (this model has none, or the text came back as it was)";
  } catch (error) {
    $("output").textContent = "";
    $("status").textContent = String(error.message || error);
  }
}
async function copy() {
  const text = $("output").textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (error) {  // no clipboard permission (plain http off localhost): select it for Ctrl-C
    const range = document.createRange();
    range.selectNodeContents($("output"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
  $("copy").textContent = "Copied";
  setTimeout(() => { $("copy").textContent = "Copy"; }, 1200);
}
$("translate").addEventListener("click", translate);
$("copy").addEventListener("click", copy);
$("source").addEventListener("input", count);
$("source-language").addEventListener("change", fillTargets);
setUp();
</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace tg::translate
