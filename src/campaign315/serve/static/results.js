// Shows the JSON of POST /api/returns: each return and, per problem, its cell, what was typed and the message;
// with the pictures of a department's check (POST /u/<token>/check, drawn by picture.js), each return's picture.
"use strict";
const OUTCOME = {accepted: "已接收", rejected: "退回", duplicate: "重复（与已收到的文件完全相同）"};
const ATTACH = {roster: "附件1 值班表", stats: "附件2 统计表"};
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function showResults(box, results, checking, pictures) {
  box.replaceChildren();
  if (!Array.isArray(results)) { box.append(el("p", results.message || "出错了", "note rejected")); return; }
  for (const [n, r] of results.entries()) {
    const head = (r.unit || "部门不明") + " · " + (ATTACH[r.attachment] || "表格不明") + " · " +
      (checking ? (r.outcome === "rejected" ? "有错误，不能报送" : "检查通过") : OUTCOME[r.outcome]);
    box.append(el("p", head, "note " + r.outcome));
    if (pictures && pictures[n] && typeof drawPicture === "function") { drawPicture(box, r, pictures[n]); continue; }
    if (!r.problems.length) continue;
    const t = el("table", undefined, "grid problems");
    const h = el("tr"); for (const c of ["单元格", "填写内容", "说明"]) h.append(el("th", c)); t.append(h);
    for (const p of r.problems) {
      const tr = el("tr", undefined, p.severity === "error" ? "problem" : "warning");
      tr.append(el("td", p.location, "cell"), el("td", p.value), el("td", p.message));
      t.append(tr);
    }
    box.append(t);
  }
}
async function upload(form, headers, onDone, checkUrl) {
  let mode = "check";
  form.addEventListener("click", e => { if (e.target.name === "mode") mode = e.target.value; });
  form.addEventListener("submit", async e => {
    e.preventDefault();
    const box = document.getElementById("result");
    const body = new FormData(); body.append("file", form.querySelector("input[type=file]").files[0]);
    box.replaceChildren(el("p", "正在读取……", "note"));
    const pictured = mode === "check" && checkUrl;  // {results, pictures} rather than the bare array
    const url = pictured ? checkUrl : "/api/returns" + (mode === "check" ? "?check=1" : "");
    try {
      const answer = await fetch(url, {method: "POST", body, headers, credentials: "same-origin"});
      const found = await answer.json();
      if (pictured && Array.isArray(found.results)) showResults(box, found.results, true, found.pictures);
      else showResults(box, found, mode === "check");
      const first = box.querySelector("td.marked");
      if (first) first.scrollIntoView({block: "nearest"});
      if (onDone) onDone();
    } catch (err) { box.replaceChildren(el("p", "无法连接服务器，请稍后再试。", "note rejected")); }
  });
}
