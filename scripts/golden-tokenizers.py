#!/usr/bin/env python3
"""
Makes the golden tokenizer fixtures in test/fixtures/tokenizers/ with the reference SentencePiece
(Debian's python3-sentencepiece, the C++ library): a Unigram model (the algorithm of SigLIP's,
XLM-R's and NLLB's tokenizers, nmt_nfkc normalisation with its precompiled charsmap) and a BPE
model with byte fallback (Gemma's, which SigLIP 2 uses), each trained on a small multilingual
caption corpus, converted to a Hugging Face tokenizer.json the way transformers'
convert_slow_tokenizer does, and the reference's ids for test sentences in many scripts.

Run once by a developer (apt-get install python3-sentencepiece python3-protobuf); the outputs are
committed, so the tests need neither. /usr/bin/python3 scripts/golden-tokenizers.py
"""
import base64, json, os, sys, tempfile
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'tokenizers')

CORPUS = """
a photo of a dog on the beach at sunset
two kids building a sandcastle at sunset
a red bicycle leaning against a brick wall
a bowl of ramen with an egg and green onions
the old town square covered in snow
ein Foto von einem Hund am Strand bei Sonnenuntergang
zwei Kinder bauen eine Sandburg bei Sonnenuntergang
ein rotes Fahrrad an einer Backsteinmauer
der alte Marktplatz im Schnee, Straße und Brücke
une photo d'un chien sur la plage au coucher du soleil
deux enfants construisent un château de sable
un vélo rouge contre un mur de briques
la vieille place couverte de neige, été et hiver
una foto de un perro en la playa al atardecer
dos niños construyendo un castillo de arena
una bicicleta roja apoyada en una pared de ladrillo
la plaza antigua cubierta de nieve, mañana y año
海滩上日落时的一只狗的照片
两个孩子在日落时建造沙堡
一辆靠在砖墙上的红色自行车
一碗有鸡蛋和葱的拉面
雪中的老城广场和猫
夕暮れのビーチにいる犬の写真
夕日の中で砂の城を作る二人の子供
レンガの壁に立てかけられた赤い自転車
雪に覆われた古い町の広場と猫
صورة كلب على الشاطئ عند غروب الشمس
طفلان يبنيان قلعة رملية عند الغروب
دراجة حمراء مستندة إلى جدار من الطوب
الساحة القديمة مغطاة بالثلج والقطة
фотография собаки на пляже на закате
двое детей строят замок из песка
красный велосипед у кирпичной стены
старая площадь покрыта снегом и кошка
सूर्यास्त के समय समुद्र तट पर एक कुत्ते की तस्वीर
दो बच्चे रेत का महल बना रहे हैं
ईंट की दीवार के सहारे एक लाल साइकिल
ηλιοβασίλεμα στην παραλία με έναν σκύλο
δύο παιδιά χτίζουν ένα κάστρο στην άμμο
해질녘 해변에 있는 개의 사진
두 아이가 모래성을 쌓고 있다
벽돌 벽에 기대어 있는 빨간 자전거
zdjęcie psa na plaży o zachodzie słońca
bir köpeğin gün batımında plajdaki fotoğrafı
foto van een hond op het strand bij zonsondergang
ภาพถ่ายของสุนัขบนชายหาดตอนพระอาทิตย์ตก
תמונה של כלב על החוף בשקיעה
"""

TESTS = [
    'a photo of a dog on the beach',
    'Two kids building a sandcastle at sunset',
    'ein rotes Fahrrad an der Brücke',
    "un château d'été sous la neige",
    '一只猫在雪中',
    '赤い自転車と猫',
    'قطة على الشاطئ',
    'собака и кошка на снегу',
    'समुद्र तट पर कुत्ता',
    '빨간 자전거',
    'ภาพถ่ายของสุนัข',
    'ＡＢＣ full-width and the ﬁne ligature ①',
    'emoji 🐕 and unseen 鰻',
    'spaces   inside  the   query',
    'mixed 中文 and English 2024',
    '',
]

def train(kind, vocab, extra):
    d = tempfile.mkdtemp()
    corpus = os.path.join(d, 'corpus.txt')
    with open(corpus, 'w') as f:
        f.write(CORPUS.strip() + '\n')
    prefix = os.path.join(d, kind)
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=vocab, character_coverage=1.0,
                                   model_type=kind, hard_vocab_limit=False, **extra)
    return prefix + '.model'

def proto(path):
    m = pb.ModelProto()
    m.ParseFromString(open(path, 'rb').read())
    return m

def unigram_json(m, template):
    """SpmConverter: Precompiled (nmt_nfkc) + collapsed spaces, Metaspace, Unigram over the pieces' scores."""
    unk = next(i for i, p in enumerate(m.pieces) if p.type == 2)
    charsmap = base64.b64encode(m.normalizer_spec.precompiled_charsmap).decode()
    eos = next(i for i, p in enumerate(m.pieces) if p.piece == '</s>')
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': p.piece, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
                         for i, p in enumerate(m.pieces) if p.type in (2, 3)],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Precompiled', 'precompiled_charsmap': charsmap},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'post_processor': {'type': 'TemplateProcessing', 'single': template, 'pair': template,
                           'special_tokens': {'</s>': {'id': '</s>', 'ids': [eos], 'tokens': ['</s>']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': unk, 'vocab': [[p.piece, p.score] for p in m.pieces], 'byte_fallback': False},
    }

def bpe_json(m):
    """GemmaConverter: spaces → ▁, no prefix, BPE with byte fallback, merges from the pieces' order."""
    vocab = {p.piece: i for i, p in enumerate(m.pieces)}
    merges = []
    for piece, rank in vocab.items():
        if m.pieces[rank].type != 1:
            continue
        local = [(piece[:k], piece[k:]) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
        merges.extend(sorted(local, key=lambda lr: (vocab[lr[0]], vocab[lr[1]])))
        # Merges are ranked by the piece they make (SentencePieceExtractor, by score).
    order = {piece: i for i, piece in enumerate(vocab)}
    merges.sort(key=lambda lr: order[lr[0] + lr[1]])
    bos = vocab['<s>']
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': p.piece, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
                         for i, p in enumerate(m.pieces) if p.type in (2, 3)],
        'normalizer': {'type': 'Replace', 'pattern': {'String': ' '}, 'content': '\u2581'},
        'pre_tokenizer': None,
        'post_processor': {'type': 'TemplateProcessing', 'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
                           'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
                           'special_tokens': {'<s>': {'id': '<s>', 'ids': [bos], 'tokens': ['<s>']}}},
        'decoder': {'type': 'Sequence', 'decoders': [{'type': 'Replace', 'pattern': {'String': '\u2581'}, 'content': ' '}, {'type': 'ByteFallback'}, {'type': 'Fuse'}]},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': '<unk>', 'continuing_subword_prefix': None, 'end_of_word_suffix': None,
                  'fuse_unk': True, 'byte_fallback': True, 'ignore_merges': False, 'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }

def write(name, tokenizer, sp, wrap):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    golden = [{'text': t, 'ids': wrap(sp.encode(t))} for t in TESTS]
    with open(os.path.join(d, 'golden.json'), 'w') as f:
        json.dump({'reference': f'sentencepiece {spm.__version__} (C++), {name}', 'cases': golden}, f, ensure_ascii=False, indent=1)

def main():
    uni = train('unigram', 700, {'normalization_rule_name': 'nmt_nfkc'})
    sp = spm.SentencePieceProcessor(model_file=uni)
    eos = sp.piece_to_id('</s>')
    template = [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}]
    write('unigram', unigram_json(proto(uni), template), sp, lambda ids: ids + [eos])
    bpe = train('bpe', 900, {'byte_fallback': True, 'add_dummy_prefix': False, 'normalization_rule_name': 'identity',
                             'remove_extra_whitespaces': False, 'split_digits': True})
    sp2 = spm.SentencePieceProcessor(model_file=bpe)
    bos = sp2.piece_to_id('<s>')
    write('spm-bpe', bpe_json(proto(bpe)), sp2, lambda ids: [bos] + ids)

main()
