"""Analysis of stored originals: perceptual hashes (PDQ for pictures, vPDQ for video) and
the near-duplicate pairs they point to, confirmed or rejected by people (docs/formats.md,
"Near-duplicates")."""
