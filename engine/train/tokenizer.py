"""Trains the byte-level BPE tokenizer of the demo model on the corpus (Hugging Face `tokenizers`).

Usage: python3 engine/train/tokenizer.py --corpus .cache/corpus/out --out models/demo --vocab 12288
Writes tokenizer.json and tokenizer_config.json. Special tokens come first (ids 0..5):
<|endoftext|> (EOS and document separator), <fim_prefix>, <fim_middle>, <fim_suffix>, <fim_pad>, <file_sep>
(StarCoder names, which the engine's FIM template detection recognises).
"""
import argparse
import json
import lzma
import os
import time

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SPECIAL_TOKENS = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<file_sep>']
EOS = '<|endoftext|>'
# cl100k's split (also Qwen2's, with 1-3 digit groups): a newline is its own piece, apart from the next
# line's indentation, so a prompt that ends at a line start tokenizes as it did in training.
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def read_texts(path):
    with lzma.open(path, 'rt', encoding='utf-8') as f:
        for line in f:
            yield json.loads(line)['text']


def train(corpus_dir, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior='isolated', invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(read_texts(os.path.join(corpus_dir, 'train.jsonl.xz')), trainer=trainer)
    return tok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--corpus', required=True, help='folder with train.jsonl.xz and heldout.jsonl.xz')
    ap.add_argument('--out', required=True)
    ap.add_argument('--vocab', type=int, default=12288)
    ap.add_argument('--max-length', type=int, default=2048)
    args = ap.parse_args()
    t0 = time.time()
    tok = train(args.corpus, args.vocab)
    for i, s in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, f'{s} has id {tok.token_to_id(s)}, expected {i}'
    os.makedirs(args.out, exist_ok=True)
    tok.save(os.path.join(args.out, 'tokenizer.json'))
    config = {
        'tokenizer_class': 'PreTrainedTokenizerFast',
        'model_max_length': args.max_length,
        'eos_token': EOS,
        'bos_token': None,
        'unk_token': None,
        'pad_token': '<fim_pad>',
        'add_bos_token': False,
        'add_eos_token': False,
        'clean_up_tokenization_spaces': False,
        'additional_special_tokens': SPECIAL_TOKENS[1:],
        # Read by Presage's engine: the demo model completes a plain prefix far better than it fills a
        # middle (MODEL_CARD.md), so inline completions send it prefix-only prompts.
        'presage_fim_template': 'generic',
    }
    with open(os.path.join(args.out, 'tokenizer_config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    held = list(read_texts(os.path.join(args.corpus, 'heldout.jsonl.xz')))
    n_bytes = sum(len(t.encode()) for t in held)
    enc = tok.encode_batch(held, add_special_tokens=False)
    n_tokens = sum(len(e.ids) for e in enc)
    bad = sum(1 for t, e in zip(held, enc) if tok.decode(e.ids, skip_special_tokens=False) != t)
    print(json.dumps({'vocab': tok.get_vocab_size(), 'heldout_bytes_per_token': round(n_bytes / n_tokens, 3),
                      'heldout_roundtrip_failures': bad, 'seconds': round(time.time() - t0, 1)}))


if __name__ == '__main__':
    main()
