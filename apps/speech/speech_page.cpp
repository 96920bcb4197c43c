#include "apps/speech/speech_page.h"

namespace speech {

// The transcript and alignment from /transcribe/spectrogram, the subtitles it would download from OpenAI's
// /v1/audio/transcriptions (response_format srt). Element ids a browser test reads: clip (file input),
// record, transcript, status, alignment (data-drawn="yes"), srt, download.
const std::string& speech_page() {
  static const std::string page = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tapegrad speech</title>
<style>
  body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  #transcript { font-size: 1.3rem; margin: 1rem 0; min-height: 1.6rem; }
  #status { color: #a00; min-height: 1.2rem; }
  #srt { background: #f4f4f4; padding: 0.5rem; white-space: pre-wrap; min-height: 1rem; }
  label { font-size: 0.9rem; color: #555; }
  .figure { overflow-x: auto; }
</style>
</head>
<body>
<h1>Speech &rarr; text</h1>
<p>
  <input type="file" id="clip" accept="audio/*">
  <button id="record">Record</button>
  <label>API key <input id="key" size="12"></label>
</p>
<div id="transcript"></div>
<div id="status"></div>
<div class="figure"><canvas id="alignment" width="10" height="10" data-drawn="no"></canvas></div>
<h2>Subtitles <a id="download" download="transcript.srt" hidden>download .srt</a></h2>
<pre id="srt"></pre>
<script>
"use strict";
const $ = (id) => document.getElementById(id);

// The log-mel features (frames x mels, normalised) as a grey image, low mels at the bottom, and each
// character above the frame where CTC emits it.
function drawAlignment(answer) {
  const s = answer.spectrogram, canvas = $("alignment"), ctx = canvas.getContext("2d");
  const px = 2, top = 24;
  canvas.width = Math.max(200, s.frames * px);
  canvas.height = top + s.mels * 2;
  let lo = Infinity, hi = -Infinity;
  for (const v of s.values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (let t = 0; t < s.frames; ++t)
    for (let m = 0; m < s.mels; ++m) {
      const g = Math.round(255 * (1 - (s.values[t * s.mels + m] - lo) / (hi - lo || 1)));
      ctx.fillStyle = `rgb(${g}, ${g}, ${g})`;
      ctx.fillRect(t * px, top + (s.mels - 1 - m) * 2, px, 2);
    }
  ctx.font = "14px monospace";
  for (const seg of answer.segments) {
    const x = seg.time / s.frame_seconds * px;
    ctx.fillStyle = "#c00";
    ctx.fillRect(x, top, 1, s.mels * 2);
    ctx.fillText(seg.char === " " ? "\u2423" : seg.char, x - 3, 16);
  }
  canvas.dataset.drawn = "yes";
}

// The SubRip file OpenAI's route gives for the clip.
async function subtitles(bytes) {
  const form = new FormData();
  form.append("file", new Blob([bytes]), "clip.wav");
  form.append("model", "tapegrad");
  form.append("response_format", "srt");
  const headers = $("key").value ? { Authorization: "Bearer " + $("key").value } : {};
  const response = await fetch("/v1/audio/transcriptions", { method: "POST", headers, body: form });
  if (!response.ok) throw new Error((await response.json()).error.message);
  const srt = await response.text();
  $("srt").textContent = srt || "(no words heard)";
  $("download").href = URL.createObjectURL(new Blob([srt], { type: "text/plain" }));
  $("download").hidden = false;
}

async function send(bytes) {
  $("status").textContent = "";
  $("transcript").textContent = "…";
  $("srt").textContent = "";
  $("download").hidden = true;
  $("alignment").dataset.drawn = "no";
  try {
    const headers = { "Content-Type": "audio/wav" };
    if ($("key").value) headers["X-API-Key"] = $("key").value;
    const response = await fetch("/transcribe/spectrogram", { method: "POST", headers, body: bytes });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    $("transcript").textContent = answer.text;
    drawAlignment(answer);
    await subtitles(bytes);
  } catch (error) {
    $("transcript").textContent = "";
    $("status").textContent = String(error.message || error);
  }
}

$("clip").addEventListener("change", async () => {
  const file = $("clip").files[0];
  if (file) await send(await file.arrayBuffer());
});

// 16-bit mono PCM WAV of samples in [-1, 1].
function wav(samples, rate) {
  const out = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const text = (at, s) => [...s].forEach((c, i) => out.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF"); out.setUint32(4, 36 + 2 * samples.length, true); text(8, "WAVE"); text(12, "fmt ");
  out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
  out.setUint32(24, rate, true); out.setUint32(28, 2 * rate, true); out.setUint16(32, 2, true);
  out.setUint16(34, 16, true); text(36, "data"); out.setUint32(40, 2 * samples.length, true);
  samples.forEach((v, i) => out.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, v)) * 32767, true));
  return out.buffer;
}

let recorder = null;
$("record").addEventListener("click", async () => {
  if (recorder) { recorder.stop(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      $("record").textContent = "Record";
      const recorded = await new AudioContext().decodeAudioData(await new Blob(chunks).arrayBuffer());
      const offline = new OfflineAudioContext(1, Math.ceil(recorded.duration * 16000), 16000);
      const source = offline.createBufferSource();
      source.buffer = recorded;
      source.connect(offline.destination);
      source.start();
      const rendered = await offline.startRendering();
      await send(wav(rendered.getChannelData(0), 16000));
    };
    recorder.start();
    $("record").textContent = "Stop";
  } catch (error) {
    $("status").textContent = "cannot record: " + String(error.message || error);
  }
});
</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace speech
