#include "apps/translate/serve/serve_page.h"

namespace tg::translate {

// Element ids the browser test (tests/check_serve_browser.py) reads: source, translate, output, status, heatmap
// (data-drawn="yes" once drawn).
const std::string& translate_page() {
  static const std::string page = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tapegrad translate</title>
<style>
  body { font-family: sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  textarea { width: 100%; font-size: 1.1rem; }
  #output { font-size: 1.3rem; margin: 1rem 0; min-height: 1.6rem; }
  #status { color: #a00; min-height: 1.2rem; }
  label { font-size: 0.9rem; color: #555; }
</style>
</head>
<body>
<h1>German &rarr; English</h1>
<textarea id="source" rows="3">Ein Mann fährt mit dem Fahrrad.</textarea>
<p>
  <button id="translate">Translate</button>
  <label>API key <input id="key" size="16"></label>
</p>
<div id="output"></div>
<div id="status"></div>
<canvas id="heatmap" width="10" height="10" data-drawn="no"></canvas>
<script>
"use strict";
const $ = (id) => document.getElementById(id);

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
  $("output").textContent = "…";
  $("heatmap").dataset.drawn = "no";
  const request = { q: $("source").value, source: "de", target: "en", format: "text", attention: true };
  if ($("key").value) request.api_key = $("key").value;
  try {
    const response = await fetch("/translate", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    $("output").textContent = answer.translatedText;
    if (answer.attention) drawHeatmap(answer.attention);
    else $("status").textContent = "this model has no attention to draw";
  } catch (error) {
    $("output").textContent = "";
    $("status").textContent = String(error.message || error);
  }
}
$("translate").addEventListener("click", translate);
</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace tg::translate
