// The customer signs on the screen: strokes on a canvas, sent as a PNG with the form.
document.querySelectorAll("canvas.signature").forEach(function (canvas) {
  var form = canvas.closest("form");
  var field = form.querySelector("input.signature-data");
  var pen = canvas.getContext("2d");
  var drawing = false, drawn = false;
  pen.lineWidth = 2.5; pen.lineCap = "round"; pen.strokeStyle = "#111";
  function at(e) {
    var box = canvas.getBoundingClientRect();
    return [(e.clientX - box.left) * canvas.width / box.width,
            (e.clientY - box.top) * canvas.height / box.height];
  }
  canvas.addEventListener("pointerdown", function (e) {
    drawing = true; var p = at(e); pen.beginPath(); pen.moveTo(p[0], p[1]);
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) return; var p = at(e); pen.lineTo(p[0], p[1]); pen.stroke(); drawn = true;
  });
  ["pointerup", "pointerleave"].forEach(function (kind) {
    canvas.addEventListener(kind, function () { drawing = false; });
  });
  form.querySelector("button.clear").addEventListener("click", function () {
    pen.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
  });
  form.addEventListener("submit", function () {
    field.value = drawn ? canvas.toDataURL("image/png") : "";
  });
});
