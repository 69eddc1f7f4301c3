/**
 * Real JPEG files for the upload, drawn on a canvas in Chromium and encoded by
 * its own JPEG encoder: a dusk sky, a pandal's silhouette with its lights and a
 * label, different in size, shape and colour each. Seeded, so every run uploads
 * the same bytes.
 */
const SCENES = [
  { name: 'kumartuli-dusk.jpg', width: 1600, height: 1200, hue: 18, label: 'Kumartuli, Saptami' },
  { name: 'bagbazar-lights.jpg', width: 1200, height: 1600, hue: 265, label: 'Bagbazar, Ashtami' },
  { name: 'ganga-ghat.jpg', width: 1800, height: 1000, hue: 200, label: 'Ganga ghat, Dashami' },
]

/** `[{ name, mimeType, buffer, width, height }]`, made in `page` (any page will do). */
export async function makePhotos(page) {
  const made = await page.evaluate(async (scenes) => {
    const out = []
    for (const [n, scene] of scenes.entries()) {
      const { width: w, height: h, hue } = scene
      const canvas = document.createElement('canvas')
      canvas.width = w
      canvas.height = h
      const g = canvas.getContext('2d')
      let seed = 1234567 + n * 7919
      const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646

      const sky = g.createLinearGradient(0, 0, 0, h)
      sky.addColorStop(0, `hsl(${hue}, 70%, 18%)`)
      sky.addColorStop(0.6, `hsl(${(hue + 30) % 360}, 75%, 45%)`)
      sky.addColorStop(1, `hsl(${(hue + 50) % 360}, 80%, 62%)`)
      g.fillStyle = sky
      g.fillRect(0, 0, w, h)

      // The moon, then the pandal: a gate with a tiered roof.
      g.fillStyle = 'rgba(255, 244, 214, 0.9)'
      g.beginPath()
      g.arc(w * (0.2 + 0.6 * rand()), h * 0.18, Math.min(w, h) * 0.06, 0, Math.PI * 2)
      g.fill()
      g.fillStyle = `hsl(${(hue + 180) % 360}, 30%, 12%)`
      const base = h * 0.82
      g.fillRect(w * 0.15, base - h * 0.35, w * 0.7, h * 0.35)
      for (let tier = 0; tier < 3; tier++) {
        const half = w * (0.38 - tier * 0.1)
        const top = base - h * (0.35 + 0.12 * (tier + 1))
        g.beginPath()
        g.moveTo(w / 2 - half, top + h * 0.12)
        g.lineTo(w / 2, top)
        g.lineTo(w / 2 + half, top + h * 0.12)
        g.closePath()
        g.fill()
      }
      g.fillStyle = `hsl(${hue}, 90%, 8%)`
      g.fillRect(w * 0.42, base - h * 0.22, w * 0.16, h * 0.22)
      g.fillRect(0, base, w, h - base)

      // Strings of lights and a crowd of glowing dots: detail, so the file is a real size.
      for (let i = 0; i < 2500; i++) {
        const x = rand() * w
        const y = base * 0.35 + rand() * (h - base * 0.35)
        const r = 1 + rand() * 4
        g.fillStyle = `hsla(${(hue + rand() * 120) % 360}, 95%, ${55 + rand() * 35}%, ${0.5 + rand() * 0.5})`
        g.beginPath()
        g.arc(x, y, r, 0, Math.PI * 2)
        g.fill()
      }
      g.fillStyle = 'rgba(255, 255, 255, 0.92)'
      g.font = `bold ${Math.round(h / 14)}px sans-serif`
      g.fillText(scene.label, w * 0.05, h * 0.95)

      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9))
      const bytes = new Uint8Array(await blob.arrayBuffer())
      let binary = ''
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
      out.push({ name: scene.name, width: w, height: h, base64: btoa(binary) })
    }
    return out
  }, SCENES)
  return made.map((p, i) => {
    const buffer = Buffer.from(p.base64, 'base64')
    if (buffer[0] !== 0xff || buffer[1] !== 0xd8 || buffer[2] !== 0xff) throw new Error(`${p.name} is not a JPEG`)
    return { name: p.name, mimeType: 'image/jpeg', buffer, width: p.width, height: p.height, label: SCENES[i].label }
  })
}
