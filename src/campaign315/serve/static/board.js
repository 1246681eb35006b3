// The board: refreshed by short polling of /api/status, without reloading the page.
"use strict";
const STATUS = {missing: "未报", on_time: "按时", late: "逾期", after_cutoff: "截止后才报", rejected: "被退回"};
const REVIEW = {approved: "已审核", has_issues: "有问题", rejected: "退回"};
const board = document.getElementById("board");
const csrf = board.dataset.csrf;
async function refresh() {
  try {
    const answer = await fetch("/api/status", {credentials: "same-origin"});
    if (!answer.ok) return;
    for (const s of await answer.json()) {
      const key = s.unit + "|" + s.attachment;
      const cell = [...board.querySelectorAll("td[data-key]")].find(c => c.dataset.key === key);
      if (!cell) continue;
      cell.className = "status " + s.status;
      cell.textContent = (STATUS[s.status] || s.status) + (s.review ? " · " + REVIEW[s.review.state] : "");
      const when = [...board.querySelectorAll("td[data-when]")].find(c => c.dataset.when === key);
      when.textContent = s.received_at ? s.received_at.slice(5, 16).replace("T", " ") : "—";
      const count = [...board.querySelectorAll("td[data-count]")].find(c => c.dataset.count === key);
      count.textContent = s.problems;
    }
    document.getElementById("refreshed").textContent = "（" + new Date().toLocaleTimeString("zh-CN") + " 更新）";
  } catch (err) { /* the next poll tries again */ }
}
setInterval(refresh, 3000);

// Review: a status cell opens the panel for the return shown there (the counting one, else the latest).
const panel = document.getElementById("review-panel");
let chosen = null;
async function choose(key) {
  const [unit, attachment] = key.split("|");
  const answer = await fetch("/api/history", {credentials: "same-origin"});
  if (!answer.ok) return;
  const mine = (await answer.json()).filter(r => r.unit === unit && r.attachment === attachment);
  const target = mine.find(r => r.counts) || mine[mine.length - 1];
  panel.hidden = false;
  document.getElementById("review-what").textContent = unit + " · " + (ATTACH[attachment] || attachment);
  document.getElementById("review-result").textContent = "";
  const problems = document.getElementById("review-problems");
  problems.replaceChildren();
  const form = document.getElementById("review-form");
  if (!target) {
    chosen = null; form.hidden = true;
    document.getElementById("review-file").textContent = "还没有收到这张表。";
    document.getElementById("review-current").textContent = "";
    return;
  }
  chosen = {unit: unit, attachment: attachment, return_id: target.id};
  form.hidden = false;
  document.getElementById("review-file").textContent = "文件：" + target.file + "（" +
    target.received_at.slice(0, 16).replace("T", " ") + " 收到，" + OUTCOME[target.outcome] + "，错误 " +
    target.errors + "，提醒 " + target.warnings + "，编号 " + target.id + "）";
  for (const p of target.problems) {
    problems.append(el("li", p.location + "：" + p.message, p.severity === "error" ? "problem" : "warning"));
  }
  const review = target.review;
  document.getElementById("review-current").textContent = review ?
    "当前审核：" + REVIEW[review.state] + (review.note ? "：" + review.note : "") + "（" + review.by + " " +
    review.at.slice(0, 16).replace("T", " ") + "）" : "尚未审核。";
}
board.addEventListener("click", e => { const cell = e.target.closest("td[data-key]"); if (cell) choose(cell.dataset.key); });
board.addEventListener("keydown", e => {
  const cell = e.target.closest("td[data-key]");
  if (cell && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); choose(cell.dataset.key); }
});
let reviewState = "approved";
const reviewForm = document.getElementById("review-form");
reviewForm.addEventListener("click", e => { if (e.target.type === "submit") reviewState = e.target.value; });
reviewForm.addEventListener("submit", async e => {
  e.preventDefault();
  if (!chosen) return;
  const said = document.getElementById("review-result");
  const body = Object.assign({}, chosen, {state: reviewState, note: document.getElementById("review-note").value,
                                          by: document.getElementById("review-by").value});
  const answer = await fetch("/api/reviews", {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
  const reply = await answer.json();
  if (!answer.ok) { said.className = "note rejected"; said.textContent = reply.message || "出错了"; return; }
  said.className = "note accepted";
  said.textContent = "已记录：" + REVIEW[reply.review.state] + "。现在的状态：" + (STATUS[reply.status] || reply.status) + "。";
  document.getElementById("review-note").value = "";
  await refresh();
  await choose(chosen.unit + "|" + chosen.attachment);
  said.className = "note accepted";
  said.textContent = "已记录：" + REVIEW[reply.review.state] + "。现在的状态：" + (STATUS[reply.status] || reply.status) + "。";
});
upload(document.getElementById("upload"), {"X-CSRF-Token": csrf}, refresh);
