// An empty program. tests/layering/meson.build links it with one layer's
// every object and only the layers below that one: a use of a symbol from a
// layer above (or beside) leaves it undefined, and the build fails there.
int main() { return 0; }
