// Viewer request of /media/*: one Accept value per image format Pujo would
// choose, so the cache keeps at most two copies of a photo's size (WebP and
// JPEG) instead of one per browser's Accept string. The same rule as Pujo's
// accepts_webp (src/api/media.rs): WebP when an item of Accept is
// image/webp without q=0, otherwise JPEG.
function handler(event) {
    var request = event.request;
    var accept = request.headers.accept ? request.headers.accept.value : '';
    var webp = accept.split(',').some(function (part) {
        var pieces = part.split(';');
        var kind = pieces[0].trim().toLowerCase();
        var refused = pieces.slice(1).some(function (p) {
            return p.trim().split(' ').join('') === 'q=0';
        });
        return kind === 'image/webp' && !refused;
    });
    request.headers.accept = { value: webp ? 'image/webp' : 'image/jpeg' };
    return request;
}
