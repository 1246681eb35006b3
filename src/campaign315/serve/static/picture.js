// The picture of a return on the department page: the form's own cells as read from the file, each
// problem's cell marked with the problem's number, and the numbered messages beside the row.
// Text from a return is hostile: it only ever goes in through textContent (el() in results.js).
"use strict";
function markBadge(index, severity) { return el("span", String(index + 1), "mark " + severity); }
function problemLine(p, index, withPlace) {
  const line = el("p", undefined, "note-line " + p.severity);
  line.append(markBadge(index, p.severity));
  if (withPlace && p.location) line.append(el("span", p.location + "：", "where"));
  line.append(el("span", p.message));
  return line;
}
function drawPicture(box, r, picture) {
  if (picture.outside.length) {  // the whole file or form, or a cell the picture does not reach
    const above = el("div", undefined, "elsewhere");
    above.append(el("p", "以下问题不在下图的某个格子里（整个文件、整张表，或在图的范围之外）：", "elsewhere-head"));
    for (const i of picture.outside) above.append(problemLine(r.problems[i], i, true));
    box.append(above);
  }
  const frame = el("div", undefined, "picture");
  frame.append(el("p", "表格图：" + picture.place + "（按文件里读到的内容，出错的格子已标出编号）", "picture-head"));
  const table = el("table", undefined, "grid picture");
  const head = el("tr");
  head.append(el("th", "", "corner"));
  for (const c of picture.columns) head.append(el("th", c, "col"));
  head.append(el("th", "说明", "notes"));
  table.append(head);
  for (const row of picture.rows) {
    const tr = el("tr");
    tr.append(el("th", row.label, "row"));
    const notes = el("td", undefined, "notes");
    for (const cell of row.cells) {
      if (cell.covered) continue;
      const td = el("td");
      if (cell.span) td.colSpan = cell.span;
      if (cell.marks) {
        const errors = cell.marks.some(i => r.problems[i].severity === "error");
        td.className = "marked " + (errors ? "error" : "warning");
        for (const i of cell.marks) {
          td.append(markBadge(i, r.problems[i].severity));
          notes.append(problemLine(r.problems[i], i, false));
        }
      }
      td.append(el("span", cell.text, "value"));
      tr.append(td);
    }
    if (notes.childNodes.length) tr.className = "has-problem";
    tr.append(notes);
    table.append(tr);
  }
  frame.append(table);
  if (!picture.rows.length) frame.append(el("p", "（这张表里没有内容）", "cut"));
  const cut = [];
  if (picture.cut.rows) cut.push("下面还有 " + picture.cut.rows + " 行");
  if (picture.cut.columns) cut.push("右边还有 " + picture.cut.columns + " 列");
  if (cut.length) frame.append(el("p", "（" + cut.join("，") + "未画出）", "cut"));
  box.append(frame);
}
