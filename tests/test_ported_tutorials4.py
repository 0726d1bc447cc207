"""PyTorch tutorial programs, ported as in test_ported_tutorials.py (continued from
test_ported_tutorials3.py): a character-level RNN, an N-gram language model, the Bi-LSTM CRF,
parametrizations and knowledge distillation.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_ported_tutorials import DATA, _port, _run
from test_ported_tutorials2 import _compare

import autodiff as ad

torch = pytest.importorskip("torch")

from torch.nn.utils import parametrize as torch_parametrize

from autodiff.nn.utils import parametrize as ad_parametrize

PARAMETRIZE = {torch: torch_parametrize, ad: ad_parametrize}


# 11. Generating names with a character-level RNN (Linear cells over cat((category, input,
# hidden)), a legacy Tensor([0]) loss accumulator, unsqueeze_ on the targets, p.data.add_,
# greedy sampling by topk), an nn.GRU char model sampled with multinomial (autodiff only: the
# generators differ), and the N-gram language model (Embedding, log_softmax, NLLLoss)

LETTERS = "abcdefghijklmnopqrstuvwxyz .,;'"
N_LETTERS = len(LETTERS) + 1  # with EOS


def _char_rnn(lib):
    nn = lib.nn

    class RNN(nn.Module):
        def __init__(self, n_categories=3, input_size=N_LETTERS, hidden_size=16,
                     output_size=N_LETTERS):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
            self.o2o = nn.Linear(hidden_size + output_size, output_size)
            self.dropout = nn.Dropout(0.1)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, category, input, hidden):
            input_combined = lib.cat((category, input, hidden), 1)
            hidden = self.i2h(input_combined)
            output = self.i2o(input_combined)
            output = self.o2o(lib.cat((hidden, output), 1))
            return self.softmax(self.dropout(output)), hidden

        def initHidden(self):
            return lib.zeros(1, self.hidden_size, dtype=self.i2h.weight.dtype)

    return RNN()


def _char_rnn_prog(lib, rnn):
    n_letters, dtype = len(LETTERS) + 1, rnn.i2h.weight.dtype

    def categoryTensor(i):
        tensor = lib.zeros(1, 3, dtype=dtype)
        tensor[0][i] = 1
        return tensor

    def inputTensor(line):
        tensor = lib.zeros(len(line), 1, n_letters, dtype=dtype)
        for li in range(len(line)):
            tensor[li][0][LETTERS.find(line[li])] = 1
        return tensor

    def targetTensor(line):
        letter_indexes = [LETTERS.find(line[li]) for li in range(1, len(line))]
        letter_indexes.append(n_letters - 1)  # EOS
        return lib.LongTensor(letter_indexes)

    criterion, learning_rate, out = lib.nn.NLLLoss(), 0.005, []
    rnn.eval()  # the dropout off: the two libraries' masks would differ
    for c, line in enumerate(["anna", "oleg", "yuki", "ivan"]):
        category_tensor, input_line_tensor = categoryTensor(c % 3), inputTensor(line)
        target_line_tensor = targetTensor(line)
        target_line_tensor.unsqueeze_(-1)
        hidden = rnn.initHidden()
        rnn.zero_grad()
        loss = lib.Tensor([0]).to(dtype)
        for i in range(input_line_tensor.size(0)):
            output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
            loss += criterion(output, target_line_tensor[i])
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        out.append(loss.item() / input_line_tensor.size(0))
    with lib.no_grad():  # sample(), greedy
        for category, start_letter in ((0, "a"), (2, "o")):
            input, hidden, output_name = inputTensor(start_letter), rnn.initHidden(), start_letter
            for _ in range(6):
                output, hidden = rnn(categoryTensor(category), input[0], hidden)
                topv, topi = output.topk(1)
                topi = topi[0][0]
                out.append(topv.item())
                if topi == n_letters - 1:
                    break
                output_name += LETTERS[topi]
                input = inputTensor(LETTERS[topi])
            out.append(sum(map(ord, output_name)))
    return out


def _char_gru(lib):
    nn = lib.nn

    class CharGRU(nn.Module):
        def __init__(self, n=N_LETTERS - 1, hidden=12):
            super().__init__()
            self.embed = nn.Embedding(n, 8)
            self.gru = nn.GRU(8, hidden, num_layers=2, batch_first=True)
            self.head = nn.Linear(hidden, n)

        def forward(self, x, h=None):
            out, h = self.gru(self.embed(x), h)
            return self.head(out), h

    return CharGRU()


def _char_gru_prog(lib, model):
    text = "the quick brown fox jumps over the lazy dog; anna, yuki."
    ids = lib.tensor([LETTERS.find(ch) for ch in text]).view(1, -1)
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    out = []
    for _ in range(3):
        logits, _ = model(ids[:, :-1])
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, len(LETTERS)), ids[0, 1:])
        opt.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        out.append(loss.item())
    with lib.no_grad():
        logits, h = model(ids[:, :5])
        out += logits.flatten().tolist() + h.flatten().tolist()
    return out


def _sample_chars(model, n, seed, temperature=0.8):
    """Autodiff only: sampling with multinomial from a seeded generator."""
    g, x, h, text = ad.Generator().manual_seed(seed), ad.tensor([[0]]), None, ""
    with ad.no_grad():
        for _ in range(n):
            logits, h = model(x, h)
            probs = ad.softmax(logits[0, -1] / temperature, dim=-1)
            x = ad.multinomial(probs, 1, generator=g).view(1, 1)
            text += LETTERS[x.item()]
    return text


def _ngram(lib):
    nn, F = lib.nn, lib.nn.functional

    class NGramLanguageModeler(nn.Module):
        def __init__(self, vocab_size, embedding_dim, context_size):
            super().__init__()
            self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.linear1 = nn.Linear(context_size * embedding_dim, 32)
            self.linear2 = nn.Linear(32, vocab_size)

        def forward(self, inputs):
            embeds = self.embeddings(inputs).view((1, -1))
            out = F.relu(self.linear1(embeds))
            return F.log_softmax(self.linear2(out), dim=1)

    return NGramLanguageModeler(len(set(SONNET)), 10, 2)


SONNET = """When forty winters shall besiege thy brow, And dig deep trenches in thy beauty's
field, Thy youth's proud livery so gazed on now, Will be a totter'd weed of small worth held:
Then being asked, where all thy beauty lies""".split()  # noqa: SIM905


def _ngram_prog(lib, model):
    ngrams = [([SONNET[i - j - 1] for j in range(2)], SONNET[i]) for i in range(2, len(SONNET))]
    word_to_ix = {word: i for i, word in enumerate(sorted(set(SONNET)))}
    losses, loss_function = [], lib.nn.NLLLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(2):
        total_loss = 0
        for context, target in ngrams:
            context_idxs = lib.tensor([word_to_ix[w] for w in context], dtype=lib.long)
            model.zero_grad()
            log_probs = model(context_idxs)
            loss = loss_function(log_probs, lib.tensor([word_to_ix[target]], dtype=lib.long))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    return losses + model.embeddings.weight[word_to_ix["beauty"]].tolist()


def test_char_rnn_and_ngram_language_models(dev):
    _run(_char_rnn, _char_rnn_prog)
    _, am = _run(_char_gru, _char_gru_prog)
    assert _sample_chars(am, 12, seed=7) == _sample_chars(am, 12, seed=7)
    assert len(_sample_chars(am, 12, seed=7)) == 12
    _run(_ngram, _ngram_prog)


# 12. Advanced: making dynamic decisions and the Bi-LSTM CRF: the forward algorithm with
# log_sum_exp (max, view, expand), the gold path score, Viterbi decoding with argmax and Python
# loops over the tags, training on the negative log likelihood


def _bilstm_crf(lib):
    nn = lib.nn
    START_TAG, STOP_TAG = "<START>", "<STOP>"
    tag_to_ix = {"B": 0, "I": 1, "O": 2, START_TAG: 3, STOP_TAG: 4}

    def argmax(vec):
        _, idx = lib.max(vec, 1)
        return idx.item()

    def log_sum_exp(vec):
        max_score = vec[0, argmax(vec)]
        max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
        return max_score + lib.log(lib.sum(lib.exp(vec - max_score_broadcast)))

    class BiLSTM_CRF(nn.Module):
        def __init__(self, vocab_size, tag_to_ix, embedding_dim, hidden_dim):
            super().__init__()
            self.hidden_dim, self.tag_to_ix = hidden_dim, tag_to_ix
            self.tagset_size = len(tag_to_ix)
            self.word_embeds = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2, num_layers=1, bidirectional=True)
            self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)
            self.transitions = nn.Parameter(lib.randn(self.tagset_size, self.tagset_size))
            self.transitions.data[tag_to_ix[START_TAG], :] = -10000
            self.transitions.data[:, tag_to_ix[STOP_TAG]] = -10000

        def init_hidden(self):  # zeros, not the tutorial's randn: the generators differ
            return (lib.zeros(2, 1, self.hidden_dim // 2, dtype=self.transitions.dtype),
                    lib.zeros(2, 1, self.hidden_dim // 2, dtype=self.transitions.dtype))

        def _forward_alg(self, feats):
            init_alphas = lib.full((1, self.tagset_size), -10000.0)
            init_alphas[0][self.tag_to_ix[START_TAG]] = 0.0
            forward_var = init_alphas
            for feat in feats:
                alphas_t = []
                for next_tag in range(self.tagset_size):
                    emit_score = feat[next_tag].view(1, -1).expand(1, self.tagset_size)
                    trans_score = self.transitions[next_tag].view(1, -1)
                    next_tag_var = forward_var + trans_score + emit_score
                    alphas_t.append(log_sum_exp(next_tag_var).view(1))
                forward_var = lib.cat(alphas_t).view(1, -1)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            return log_sum_exp(terminal_var)

        def _get_lstm_features(self, sentence):
            self.hidden = self.init_hidden()
            embeds = self.word_embeds(sentence).view(len(sentence), 1, -1)
            lstm_out, self.hidden = self.lstm(embeds, self.hidden)
            return self.hidden2tag(lstm_out.view(len(sentence), self.hidden_dim))

        def _score_sentence(self, feats, tags):
            score = lib.zeros(1)
            tags = lib.cat([lib.tensor([self.tag_to_ix[START_TAG]], dtype=lib.long), tags])
            for i, feat in enumerate(feats):
                score = score + self.transitions[tags[i + 1], tags[i]] + feat[tags[i + 1]]
            return score + self.transitions[self.tag_to_ix[STOP_TAG], tags[-1]]

        def _viterbi_decode(self, feats):
            backpointers = []
            init_vvars = lib.full((1, self.tagset_size), -10000.0)
            init_vvars[0][self.tag_to_ix[START_TAG]] = 0
            forward_var = init_vvars
            for feat in feats:
                bptrs_t, viterbivars_t = [], []
                for next_tag in range(self.tagset_size):
                    next_tag_var = forward_var + self.transitions[next_tag]
                    best_tag_id = argmax(next_tag_var)
                    bptrs_t.append(best_tag_id)
                    viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
                forward_var = (lib.cat(viterbivars_t) + feat).view(1, -1)
                backpointers.append(bptrs_t)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            best_tag_id = argmax(terminal_var)
            path_score = terminal_var[0][best_tag_id]
            best_path = [best_tag_id]
            for bptrs_t in reversed(backpointers):
                best_tag_id = bptrs_t[best_tag_id]
                best_path.append(best_tag_id)
            start = best_path.pop()
            assert start == self.tag_to_ix[START_TAG]
            best_path.reverse()
            return path_score, best_path

        def neg_log_likelihood(self, sentence, tags):
            feats = self._get_lstm_features(sentence)
            return self._forward_alg(feats) - self._score_sentence(feats, tags)

        def forward(self, sentence):
            return self._viterbi_decode(self._get_lstm_features(sentence))

    return BiLSTM_CRF(9, tag_to_ix, 5, 4)


def _bilstm_crf_prog(lib, model):
    training_data = [("the wall street journal reported today".split(), "B I I I O O".split()),  # noqa: SIM905
                     ("georgia tech is a university".split(), "B I O O O".split())]  # noqa: SIM905
    word_to_ix = {}
    for sentence, _ in training_data:
        for word in sentence:
            word_to_ix.setdefault(word, len(word_to_ix) % 9)
    tag_to_ix = model.tag_to_ix

    def prepare_sequence(seq, to_ix):
        return lib.tensor([to_ix[w] for w in seq], dtype=lib.long)

    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
    out = []
    with lib.no_grad():
        score, path = model(prepare_sequence(training_data[0][0], word_to_ix))
        out += [score.item(), *path]
    for _ in range(2):
        for sentence, tags in training_data:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = lib.tensor([tag_to_ix[t] for t in tags], dtype=lib.long)
            loss = model.neg_log_likelihood(sentence_in, targets)
            loss.backward()
            optimizer.step()
            out.append(loss.item())
    with lib.no_grad():
        score, path = model(prepare_sequence(training_data[0][0], word_to_ix))
    return out + [score.item(), *path]


def test_bilstm_crf(dev):
    _run(_bilstm_crf, _bilstm_crf_prog)


# 13. Parametrizations: Symmetric / Skew / CayleyMap / MatrixExponential modules registered on
# weights (chained), the parametrized repr and parameter names, parametrize.cached(),
# right_inverse initialisation by assignment, remove_parametrizations, training through them


def _param_layers(lib):
    nn = lib.nn
    return nn.ModuleDict({k: nn.Linear(3, 3) for k in ("sym", "orth", "spd", "init", "rm")})


def _parametrizations(lib, layers):
    nn, parametrize = lib.nn, PARAMETRIZE[lib]

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu(1)

    class CayleyMap(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", lib.eye(n, dtype=lib.float64))

        def forward(self, X):  # (I + X)(I - X)^{-1}
            return lib.linalg.solve(self.Id - X, self.Id + X)

        def right_inverse(self, A):  # (A - I)(A + I)^{-1}
            return lib.linalg.solve(A + self.Id, self.Id - A)

    class MatrixExponential(nn.Module):
        def forward(self, X):
            return lib.matrix_exp(X)

    calls = []

    class NoisyParametrization(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X

    out = []
    layer = layers["sym"]
    parametrize.register_parametrization(layer, "weight", Symmetric())
    A = layer.weight
    out += [lib.allclose(A, A.T), repr(layer), [n for n, _ in layer.named_parameters()],
            type(layer.parametrizations.weight).__name__, parametrize.is_parametrized(layer),
            parametrize.is_parametrized(layer, "bias")]
    parametrize.register_parametrization(layer, "bias", NoisyParametrization())
    foo = layer.bias + layer.bias
    with parametrize.cached():
        foo = layer.bias + layer.bias
        bar = layer.bias.sum()
    out += [len(calls), foo.tolist(), bar.item()]
    orth = layers["orth"]
    parametrize.register_parametrization(orth, "weight", Skew())
    parametrize.register_parametrization(orth, "weight", CayleyMap(3))
    X = orth.weight
    out += [lib.dist(X.T @ X, lib.eye(3, dtype=X.dtype)).item() < 1e-12, X.flatten().tolist(),
            len(orth.parametrizations.weight)]
    spd = layers["spd"]
    parametrize.register_parametrization(spd, "weight", Symmetric())
    parametrize.register_parametrization(spd, "weight", MatrixExponential())
    out += spd.weight.flatten().tolist() + lib.linalg.eigvalsh(spd.weight).tolist()
    init = layers["init"]
    parametrize.register_parametrization(init, "weight", Skew())
    parametrize.register_parametrization(init, "weight", CayleyMap(3))
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
    X = lib.tensor(q * np.sign(np.linalg.det(q)))
    init.weight = X
    out += [lib.dist(init.weight, X).item() < 1e-12, init.parametrizations.weight.original
            .flatten().tolist()]
    opt = lib.optim.SGD(list(orth.parameters()) + list(spd.parameters()), lr=0.05)
    x = lib.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    for _ in range(3):
        loss = (orth(x) - spd(x)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(loss.item())
    rm = layers["rm"]
    parametrize.register_parametrization(rm, "weight", Symmetric())
    parametrize.remove_parametrizations(rm, "weight")
    out += [type(rm.weight).__name__, rm.weight.flatten().tolist(), repr(rm)]
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    return out + [layer.weight.flatten().tolist(), repr(layer)]


def test_parametrizations(dev):
    tm, am = _port(_param_layers)
    _compare(_parametrizations(torch, tm), _parametrizations(ad, am))


# 14. Knowledge distillation: a frozen teacher in eval(), soft targets with a temperature
# (softmax / log_softmax, the KL term by hand), CosineEmbeddingLoss on avg_pool1d-matched hidden
# representations, an MSE regressor on feature maps, parameter counts


def _kd_nets(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self, width, hidden_pool):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
                                          nn.MaxPool2d(2), nn.Conv2d(width, 4, 3, padding=1),
                                          nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(4 * 2 * 2, 16), nn.ReLU(),
                                            nn.Dropout(0.1), nn.Linear(16, 3))
            self.hidden_pool = hidden_pool
            self.regressor = nn.Conv2d(4, 4, kernel_size=3, padding=1)

        def forward(self, x):
            x = self.features(x)
            flat = lib.flatten(x, 1)
            hidden = lib.nn.functional.avg_pool1d(flat, 2) if self.hidden_pool else flat[:, :8]
            return self.classifier(flat), hidden, self.regressor(x)

    return nn.ModuleDict({"teacher": Net(8, True), "student": Net(4, False)})


def _distill(lib, nets):
    nn, F, data = lib.nn, lib.nn.functional, DATA[lib]
    teacher, student = nets["teacher"], nets["student"]
    rng = np.random.default_rng(0)
    train_loader = data.DataLoader(data.TensorDataset(
        lib.tensor(rng.standard_normal((12, 3, 8, 8))), lib.tensor(rng.integers(0, 3, 12))),
        batch_size=4)
    ce_loss, cosine_loss, mse_loss = nn.CrossEntropyLoss(), nn.CosineEmbeddingLoss(), nn.MSELoss()
    optimizer = lib.optim.Adam(student.parameters(), lr=1e-3)
    T, soft_target_loss_weight, ce_loss_weight = 2, 0.25, 0.75
    teacher.eval()
    student.eval()  # (the tutorial's train(): its dropout masks would differ between libraries)
    out = [sum(p.numel() for p in m.parameters()) for m in (teacher, student)]
    for _ in range(2):
        running_loss = 0.0
        for inputs, labels in train_loader:
            optimizer.zero_grad()
            with lib.no_grad():
                teacher_logits, teacher_hidden, teacher_map = teacher(inputs)
            student_logits, student_hidden, student_map = student(inputs)
            soft_targets = F.softmax(teacher_logits / T, dim=-1)
            soft_prob = F.log_softmax(student_logits / T, dim=-1)
            soft_targets_loss = lib.sum(soft_targets * (soft_targets.log() - soft_prob)) / (
                soft_prob.size()[0] * (T**2))
            hidden_rep_loss = cosine_loss(student_hidden, teacher_hidden,
                                          target=lib.ones(inputs.size(0)))
            loss = (soft_target_loss_weight * soft_targets_loss + ce_loss_weight * ce_loss(
                student_logits, labels) + 0.1 * hidden_rep_loss + 0.1 * mse_loss(
                student_map, teacher_map))
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            out += [soft_targets_loss.item(), hidden_rep_loss.item()]
        out.append(running_loss / len(train_loader))
    kl = nn.KLDivLoss(reduction="batchmean")(soft_prob, soft_targets)
    return out + [kl.item(), (teacher_logits.argmax(1) == labels).float().mean().item()]


def test_knowledge_distillation(dev):
    _run(_kd_nets, _distill)
