#!/usr/bin/env python3
"""Write the seed corpus of fuzz-api (tests/fuzz/corpus/): a few small
programs in the target's input format (fuzz-api.c), each one exercising a
part of the API, so that fuzzing starts from meaningful sequences."""
import os
import sys

OPS = ['BYTES', 'LOOKUP', 'NEW', 'MORTAL', 'IMMORTAL', 'STATIC', 'STATIC_NEW',
       'DECREF', 'INCREF', 'AUTO', 'INT', 'CHECK', 'RECREATE', 'STALE', 'VERIFY',
       'RESEED']
N = len(OPS)


def op(name, interp=0):
    o = OPS.index(name)
    if interp == 0:
        return bytes([o])
    return bytes([128 + ((o - 128) % N)])


def key(text):
    b = text.encode('latin-1')
    assert len(b) < 32
    return bytes([len(b)]) + b


def pooled(i):
    return bytes([0x80 | i])


def config(shards=0, auto=0, quota=0, low=0):
    return bytes([(shards & 3) | (auto & 7) << 2 | (quota & 3) << 5 | (low & 1) << 7])


SEEDS = {
    'basic': config() + config() + op('BYTES') + key('hello') + op('BYTES') + pooled(0)
    + op('LOOKUP') + pooled(0) + op('DECREF') + b'\0' + op('CHECK') + op('LOOKUP') + key('absent')
    + op('VERIFY'),
    'two-interps': config(1) + config(2) + op('BYTES') + key('shared_key')
    + op('MORTAL', 1) + b'\0' + op('IMMORTAL', 1) + b'\0' + op('RECREATE') + config(3)
    + op('VERIFY') + op('CHECK', 1) + op('BYTES') + pooled(0) + op('CHECK'),
    'quota': config(0, 0, 1) + config(0, 0, 2) + b''.join(op('BYTES') + key('q%d' % i)
                                                           for i in range(6))
    + op('CHECK') + op('DECREF') + b'\0' + op('BYTES') + key('again') + op('CHECK')
    + b''.join(op('BYTES', 1) + key('bytes%02d' % i) for i in range(6)) + op('CHECK', 1),
    'statics': config() + config() + op('STATIC_NEW') + key('static_one') + op('STATIC') + b'\0'
    + op('BYTES') + pooled(0) + op('STATIC', 1) + b'\0' + op('NEW') + key('static_one')
    + op('MORTAL') + b'\1' + op('STATIC_NEW') + key('x') + op('STATIC') + b'\2' + op('CHECK')
    + op('CHECK', 1),
    'ints-auto': config(0, 2) + config() + op('INT') + b'\0' * 7 + b'\x2a' + b'\0'
    + op('INT') + b'\xff' * 8 + b'\0' + op('INT') + b'\x80' + b'\0' * 7 + b'\0'
    + op('AUTO') + key('identifier') + op('AUTO') + key('not an id') + op('AUTO') + key('a1')
    + op('AUTO') + key('-5') + op('AUTO') + key('1024') + op('CHECK'),
    'reseed': config(0) + config(2) + b''.join(op('BYTES') + key('r%d' % i) for i in range(8))
    + op('RESEED') + b'\0' + op('LOOKUP') + pooled(3) + op('DECREF') + b'\1'
    + op('BYTES') + key('after_reseed') + op('CHECK') + op('VERIFY')
    + op('BYTES', 1) + key('other') + op('RESEED', 1) + b'\0' + op('CHECK', 1),
    'nul-bytes': config() + config() + op('BYTES') + key('a\0b') + op('BYTES') + key('a\0c')
    + op('NEW') + key('\xff\xfe\0') + op('MORTAL') + b'\2' + op('INCREF') + b'\0'
    + op('STALE') + config() + op('VERIFY') + op('CHECK'),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name + '.bin'), 'wb') as f:
        f.write(data)
