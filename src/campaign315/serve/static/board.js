// The board: refreshed by short polling of /api/status, without reloading the page.
"use strict";
const STATUS = {missing: "未报", on_time: "按时", late: "逾期", after_cutoff: "截止后", rejected: "被退回"};
const board = document.getElementById("board");
const csrf = board.dataset.csrf;
async function refresh() {
  try {
    const answer = await fetch("/api/status", {credentials: "same-origin"});
    if (!answer.ok) return;
    for (const s of await answer.json()) {
      const row = [...board.tBodies[0].rows].find(r => r.dataset.key === s.unit + "|" + s.attachment);
      if (!row) continue;
      const cell = row.cells[2];
      cell.className = "status " + s.status; cell.textContent = STATUS[s.status] || s.status;
      row.cells[3].textContent = s.received_at ? s.received_at.slice(0, 16).replace("T", " ") : "—";
      row.cells[4].textContent = s.problems;
    }
    document.getElementById("refreshed").textContent = "（" + new Date().toLocaleTimeString("zh-CN") + " 更新）";
  } catch (err) { /* the next poll tries again */ }
}
setInterval(refresh, 3000);
upload(document.getElementById("upload"), {"X-CSRF-Token": csrf}, refresh);
