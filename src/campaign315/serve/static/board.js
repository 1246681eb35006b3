// The board: refreshed by short polling of /api/status, without reloading the page.
"use strict";
const STATUS = {missing: "未报", on_time: "按时", late: "逾期", after_cutoff: "截止后才报", rejected: "被退回"};
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
      cell.className = "status " + s.status; cell.textContent = STATUS[s.status] || s.status;
      const when = [...board.querySelectorAll("td[data-when]")].find(c => c.dataset.when === key);
      when.textContent = s.received_at ? s.received_at.slice(5, 16).replace("T", " ") : "—";
      const count = [...board.querySelectorAll("td[data-count]")].find(c => c.dataset.count === key);
      count.textContent = s.problems;
    }
    document.getElementById("refreshed").textContent = "（" + new Date().toLocaleTimeString("zh-CN") + " 更新）";
  } catch (err) { /* the next poll tries again */ }
}
setInterval(refresh, 3000);
upload(document.getElementById("upload"), {"X-CSRF-Token": csrf}, refresh);
