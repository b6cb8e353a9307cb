"""Image files: containers (PNG, JPEG, WebP), the parameters embedded in them, decoding limits,
saving without overwriting, and the library's thumbnails."""
