// Detection boxes drawn over a picture (event snapshot or live video): a canvas laid over the media element, boxes in
// the picture's own pixels scaled to how the element shows it (object-fit contain or cover), with labels.

/**
 * Draws `detections` ([{ bbox: [left, top, width, height], label?, confidence? }], pixels of a `sourceWidth` x
 * `sourceHeight` picture) on `canvas`, which must cover `media` exactly. Clears it when `detections` is empty.
 */
export function drawBoxes(canvas, media, detections, sourceWidth, sourceHeight) {
  const width = media.clientWidth;
  const height = media.clientHeight;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  if (!detections?.length || !sourceWidth || !sourceHeight) return;

  // object-fit: contain (scaled to fit) or cover (scaled to fill, cropped), centred either way.
  const fit = getComputedStyle(media).objectFit;
  const scale = fit === 'cover' ? Math.max(width / sourceWidth, height / sourceHeight) : Math.min(width / sourceWidth, height / sourceHeight);
  const offsetX = (width - sourceWidth * scale) / 2;
  const offsetY = (height - sourceHeight * scale) / 2;
  context.lineWidth = 2;
  context.font = '12px system-ui, sans-serif';
  context.textBaseline = 'bottom';
  for (const detection of detections) {
    const [left, top, w, h] = detection.bbox ?? [];
    if (!(w > 0 && h > 0)) continue;
    const x = offsetX + left * scale;
    const y = offsetY + top * scale;
    context.strokeStyle = '#ffd400';
    context.strokeRect(x, y, w * scale, h * scale);
    const text = [detection.label, detection.confidence != null ? `${Math.round(detection.confidence * 100)}%` : null].filter(Boolean).join(' ');
    if (text) {
      const metrics = context.measureText(text);
      context.fillStyle = 'rgba(0, 0, 0, 0.7)';
      context.fillRect(x, Math.max(0, y - 16), metrics.width + 6, 16);
      context.fillStyle = '#ffffff';
      context.fillText(text, x + 3, Math.max(16, y));
    }
  }
}

/** The detections of an event as the console gets it (payload.detections, or the single bbox of a detection task). */
export function detectionsOf(event) {
  const payload = event.payload ?? {};
  if (Array.isArray(payload.detections)) {
    return payload.detections.map((d) => ({ bbox: d.bbox, label: d.label ?? event.label ?? 'person', confidence: d.confidence }));
  }
  if (Array.isArray(payload.faces)) {
    // Face boxes are [x1, y1, x2, y2].
    return payload.faces.map((f) => ({ bbox: [f.bbox[0], f.bbox[1], f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]], label: 'face', confidence: f.confidence }));
  }
  if (Array.isArray(event.bbox) && event.bbox.length === 4) {
    return [{ bbox: event.bbox, label: event.label, confidence: event.confidence }];
  }
  return [];
}
