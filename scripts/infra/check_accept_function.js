// The CloudFront function of terraform/modules/cdn must pick the format
// Pujo picks (accepts_webp in src/api/media.rs, whose test cases these are),
// or the edge would key a WebP answer as JPEG. Run by scripts/check-infra.sh.
'use strict';
const fs = require('fs');
const path = require('path');
const src = fs.readFileSync(path.join(__dirname, '../../terraform/modules/cdn/normalize-accept.js'), 'utf8');
const handler = new Function(src + '\nreturn handler;')();
const cases = [
    ['image/avif,image/webp,image/apng,*/*;q=0.8', 'image/webp'],
    ['image/webp,*/*', 'image/webp'],
    ['IMAGE/WebP ; q=0.5', 'image/webp'],
    ['*/*', 'image/jpeg'],
    ['image/webp;q=0', 'image/jpeg'],
    ['image/webp; q = 0', 'image/jpeg'],
    ['image/*', 'image/jpeg'],
    ['', 'image/jpeg'],
    [undefined, 'image/jpeg'],
];
let failed = 0;
for (const [accept, want] of cases) {
    const headers = accept === undefined ? {} : { accept: { value: accept } };
    const got = handler({ request: { uri: '/media/1/thumb', headers } }).headers.accept.value;
    if (got !== want) {
        console.log(`Accept ${JSON.stringify(accept)}: got ${got}, want ${want}`);
        failed++;
    }
}
process.exit(failed ? 1 : 0);
