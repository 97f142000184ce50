/* The demo fleet's random draws at its start, in C (connectors/demo/draws.py).
 *
 * A 10,000-service demo draws 90,000 finished runs when it starts: ~1.6 million
 * getrandbits calls made one by one from Python, about half a second of the cockpit's
 * first second. This module runs the generator of CPython's `random.Random` (the
 * Mersenne Twister MT19937, from Matsumoto and Nishimura's published algorithm) from a
 * state taken with `Random.getstate()`, draws exactly as `Random` draws, and hands its
 * state back for `Random.setstate()`. So every number, and the generator's state after
 * them, is the one `Random` gives (tests/unit/test_demo_draws.py holds it to `Random`).
 *
 * Built as an optional extension (setup.py): without a compiler the demo draws through
 * `Random` itself, to the same fleet.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define N 624 /* words of state */
#define M 397 /* the twist's middle distance */
#define MAX_STAGES 7 /* a packed run: 15 bits, then 3 a stage, in 64 bits */

typedef struct {
    PyObject_HEAD
    uint32_t mt[N];
    int index; /* the next word to temper; N: twist first */
} Stream;

static void
twist(Stream *s)
{
    uint32_t *mt = s->mt;
    for (int k = 0; k < N; k++) {
        uint32_t y = (mt[k] & 0x80000000U) | (mt[(k + 1) % N] & 0x7fffffffU);
        mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
    }
    s->index = 0;
}

/* The next 32 random bits: Random.getrandbits(32). */
static inline uint32_t
next_word(Stream *s)
{
    if (s->index >= N)
        twist(s);
    uint32_t y = s->mt[s->index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

/* Random.randrange(n) for 1 <= n < 2**32: n.bit_length() bits, drawn again while >= n. */
static inline uint32_t
draw_below(Stream *s, uint32_t n)
{
    int k = 0;
    for (uint32_t v = n; v; v >>= 1)
        k++;
    uint32_t r;
    do
        r = next_word(s) >> (32 - k);
    while (r >= n);
    return r;
}

/* Random.random(): 27 bits and 26 bits make a double in [0, 1). a * 2**26 + b is exact
   below 2**53, so the result does not depend on how the compiler orders the arithmetic. */
static inline double
draw_random(Stream *s)
{
    uint32_t a = next_word(s) >> 5, b = next_word(s) >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

static PyObject *
Stream_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *state;
    static char *kwlist[] = {"state", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!:Stream", kwlist, &PyTuple_Type, &state))
        return NULL;
    if (PyTuple_GET_SIZE(state) != N + 1) {
        PyErr_SetString(PyExc_ValueError,
                        "state must be the 625 numbers of Random.getstate()[1]");
        return NULL;
    }
    Stream *self = (Stream *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i <= N; i++) {
        unsigned long word = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(state, i));
        if (word == (unsigned long)-1 && PyErr_Occurred())
            goto bad;
        if (word > (i < N ? 0xffffffffUL : (unsigned long)N)) {
            PyErr_SetString(PyExc_ValueError, "state holds a number out of range");
            goto bad;
        }
        if (i < N)
            self->mt[i] = (uint32_t)word;
        else
            self->index = (int)word;
    }
    return (PyObject *)self;
bad:
    Py_DECREF(self);
    return NULL;
}

PyDoc_STRVAR(state_doc,
"state() -> tuple\n\n"
"The 625 numbers for Random.setstate((3, state, gauss_next)): the generator as it stands.");

static PyObject *
Stream_state(Stream *self, PyObject *unused)
{
    PyObject *out = PyTuple_New(N + 1);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i <= N; i++) {
        PyObject *word = PyLong_FromUnsignedLong(i < N ? self->mt[i] : (unsigned long)self->index);
        if (word == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, word);
    }
    return out;
}

PyDoc_STRVAR(below_doc,
"below(n) -> int\n\nRandom.randrange(n), for 1 <= n < 2**32.");

static PyObject *
Stream_below(Stream *self, PyObject *arg)
{
    unsigned long long n = PyLong_AsUnsignedLongLong(arg);
    if (n == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (n < 1 || n > 0xffffffffULL) {
        PyErr_SetString(PyExc_ValueError, "below(n) takes 1 <= n < 2**32");
        return NULL;
    }
    return PyLong_FromUnsignedLong(draw_below(self, (uint32_t)n));
}

PyDoc_STRVAR(random_doc, "random() -> float\n\nRandom.random().");

static PyObject *
Stream_random(Stream *self, PyObject *unused)
{
    return PyFloat_FromDouble(draw_random(self));
}

PyDoc_STRVAR(runs_doc,
"runs(count, minutes, authors, messages, fails) -> (words, succeeded)\n\n"
"Draw `count` finished runs of the demo's history (sim_history), each packed into one\n"
"number: randrange(minutes) in bits 0-3, randrange(authors) in 4-7, randrange(messages)\n"
"in 8-11; then random() picks the stage it fails at (the first whose probability in\n"
"`fails` is above what is left of it), that stage + 1 (0: none) in bits 12-14; then\n"
"randrange(8) for each stage run, up to the failing one, 3 bits each from bit 15.\n"
"`succeeded` holds the indices of the runs that failed nowhere. minutes, authors and\n"
"messages are 1 to 16; fails holds 1 to 7 probabilities.");

static PyObject *
Stream_runs(Stream *self, PyObject *args)
{
    Py_ssize_t count;
    int minutes, authors, messages;
    PyObject *fails_obj;
    double fails[MAX_STAGES];

    if (!PyArg_ParseTuple(args, "niiiO!:runs", &count, &minutes, &authors, &messages,
                          &PyTuple_Type, &fails_obj))
        return NULL;
    Py_ssize_t stages = PyTuple_GET_SIZE(fails_obj);
    if (count < 0 || minutes < 1 || minutes > 16 || authors < 1 || authors > 16
        || messages < 1 || messages > 16 || stages < 1 || stages > MAX_STAGES) {
        PyErr_SetString(PyExc_ValueError,
                        "runs() takes count >= 0, minutes, authors and messages from 1 to 16, "
                        "and 1 to 7 failure probabilities");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < stages; i++) {
        fails[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(fails_obj, i));
        if (fails[i] == -1.0 && PyErr_Occurred())
            return NULL;
    }
    PyObject *words = PyTuple_New(count);
    PyObject *succeeded = PyList_New(0);
    if (words == NULL || succeeded == NULL)
        goto bad;
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t word = draw_below(self, (uint32_t)minutes);
        word |= (uint64_t)draw_below(self, (uint32_t)authors) << 4;
        word |= (uint64_t)draw_below(self, (uint32_t)messages) << 8;
        double roll = draw_random(self);
        int fail_at = -1;
        for (int idx = 0; idx < stages; idx++) {
            if (roll < fails[idx]) {
                fail_at = idx;
                break;
            }
            roll -= fails[idx];
        }
        word |= (uint64_t)(fail_at + 1) << 12;
        int ran = fail_at < 0 ? (int)stages : fail_at + 1;
        for (int idx = 0; idx < ran; idx++)
            word |= (uint64_t)draw_below(self, 8) << (15 + 3 * idx);
        PyObject *number = PyLong_FromUnsignedLongLong(word);
        if (number == NULL)
            goto bad;
        PyTuple_SET_ITEM(words, i, number);
        if (fail_at < 0) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(succeeded, index) < 0) {
                Py_XDECREF(index);
                goto bad;
            }
            Py_DECREF(index);
        }
    }
    PyObject *result = Py_BuildValue("(NN)", words, succeeded);
    if (result == NULL)
        return NULL; /* "N" has released both */
    return result;
bad:
    Py_XDECREF(words);
    Py_XDECREF(succeeded);
    return NULL;
}

static PyMethodDef Stream_methods[] = {
    {"below", (PyCFunction)Stream_below, METH_O, below_doc},
    {"random", (PyCFunction)Stream_random, METH_NOARGS, random_doc},
    {"runs", (PyCFunction)Stream_runs, METH_VARARGS, runs_doc},
    {"state", (PyCFunction)Stream_state, METH_NOARGS, state_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Stream_doc,
"Stream(state)\n\n"
"Random's draws from state, the 625 numbers of Random.getstate()[1].");

static PyTypeObject StreamType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "connectors.demo._draws.Stream",
    .tp_basicsize = sizeof(Stream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Stream_doc,
    .tp_new = Stream_new,
    .tp_methods = Stream_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "connectors.demo._draws",
    .m_doc = "Random's draws for the demo fleet's start, in C (see draws.py).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__draws(void)
{
    if (PyType_Ready(&StreamType) < 0)
        return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL)
        return NULL;
    if (PyModule_AddObjectRef(mod, "Stream", (PyObject *)&StreamType) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
